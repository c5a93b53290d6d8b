import { useState, type FormEvent } from 'react';
import { signIn } from '../account';
import { TextField, NoticeLine, Page, errorNotice, type Notice } from '../components/ui';

/** Password first; the one-time code too for those who have an authenticator. */
export function SignInPage(props: { onSignedIn: (mfa: boolean) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [hasAuthenticator, setHasAuthenticator] = useState(false);
  const [otp, setOtp] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    try {
      const code = hasAuthenticator ? otp : '';
      await signIn({ username, password, otp: code });
      setPassword('');
      props.onSignedIn(code !== '');
    } catch (error) {
      setNotice(errorNotice(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Sign in to Elevate" intro="Just-in-time access to privileged groups.">
      <form className="card narrow" onSubmit={(event) => void submit(event)}>
        <TextField
          id="sign-in-user"
          label="User name"
          name="username"
          type="text"
          autoComplete="username"
          placeholder="name@example.com"
          required
          value={username}
          onChange={setUsername}
        />
        <TextField
          id="sign-in-password"
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={setPassword}
        />
        <div className="field checkbox">
          <input
            id="sign-in-has-otp"
            type="checkbox"
            checked={hasAuthenticator}
            onChange={(event) => setHasAuthenticator(event.target.checked)}
          />
          <label htmlFor="sign-in-has-otp">I have an authenticator app</label>
        </div>
        {hasAuthenticator ? (
          <div className="field">
            <label htmlFor="sign-in-otp">Code from your authenticator</label>
            <input
              id="sign-in-otp"
              name="otp"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              aria-describedby="sign-in-otp-help"
              value={otp}
              onChange={(event) => setOtp(event.target.value)}
            />
            <p id="sign-in-otp-help" className="help">
              Six digits. Signing in with a code lets you activate groups that need multi-factor
              authentication.
            </p>
          </div>
        ) : null}
        <NoticeLine notice={notice} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </Page>
  );
}
