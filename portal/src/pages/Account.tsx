import QRCode from 'qrcode';
import { useState, type FormEvent } from 'react';
import { post } from '../api';
import { TextField, NoticeLine, Page, errorNotice, type Notice } from '../components/ui';
import { useSession } from '../session';

interface Enrolment {
  id: string;
  secretKey: string;
  otpauthUri: string;
  qr: string;
}

/** The signed-in user's details and authenticator (TOTP) enrolment. */
export function AccountPage() {
  const { session } = useSession();
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  async function start() {
    setBusy(true);
    setNotice(null);
    try {
      const method = await post<Omit<Enrolment, 'qr'>>('/v1.0/me/authentication/totpMethods');
      // Drawn here, in the browser: the secret never goes to any other service.
      const qr = await QRCode.toDataURL(method.otpauthUri, { margin: 1, width: 220 });
      setEnrolment({ ...method, qr });
      setCode('');
    } catch (error) {
      setNotice(errorNotice(error));
    } finally {
      setBusy(false);
    }
  }

  async function verify(event: FormEvent) {
    event.preventDefault();
    if (!enrolment) return;
    setBusy(true);
    setNotice(null);
    try {
      await post(`/v1.0/me/authentication/totpMethods/${encodeURIComponent(enrolment.id)}/verify`, {
        code: code.trim(),
      });
      setEnrolment(null);
      setNotice({
        kind: 'success',
        text:
          'Your authenticator is set up. Use its code when you sign in or activate a group ' +
          'that needs it.',
      });
    } catch (error) {
      setNotice(errorNotice(error));
    } finally {
      setBusy(false);
    }
  }

  const { me } = session;
  return (
    <Page title="My account">
      <section className="card" aria-labelledby="me-title">
        <h2 id="me-title">You</h2>
        <dl className="facts">
          <dt>Name</dt>
          <dd>{me.displayName}</dd>
          <dt>User name</dt>
          <dd>{me.userPrincipalName}</dd>
          <dt>Email</dt>
          <dd>{me.mail ?? '—'}</dd>
          <dt>Account</dt>
          <dd>{me.userType === 'Guest' ? 'Guest' : 'Member'}</dd>
          <dt>This sign-in</dt>
          <dd>{session.mfa ? 'Password and authenticator code' : 'Password'}</dd>
        </dl>
      </section>

      <section className="card" aria-labelledby="totp-title">
        <h2 id="totp-title">Authenticator app</h2>
        <p>
          An authenticator app (such as one on your phone) gives a new six-digit code every 30
          seconds. Some groups need it to activate.
        </p>
        <NoticeLine notice={notice} />
        {enrolment ? (
          <form onSubmit={(event) => void verify(event)} aria-labelledby="totp-scan">
            <h3 id="totp-scan">Scan this code with your app</h3>
            <img
              className="qr"
              src={enrolment.qr}
              width={220}
              height={220}
              alt={
                'QR code for your authenticator app. ' +
                'If you cannot scan it, type the key shown below.'
              }
            />
            <p>
              Or type this key: <code className="secret">{enrolment.secretKey}</code>
            </p>
            <TextField
              id="totp-code"
              label="Code shown by the app"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              value={code}
              onChange={setCode}
            />
            <div className="actions">
              <button type="submit" className="primary" disabled={busy}>
                Verify
              </button>
              <button type="button" onClick={() => setEnrolment(null)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <button type="button" className="primary" disabled={busy} onClick={() => void start()}>
            Set up an authenticator app
          </button>
        )}
      </section>
    </Page>
  );
}
