import { useEffect, useRef, useState, type FormEvent } from 'react';
import { signIn } from '../account';
import { TextField, NoticeLine, errorNotice, type Notice } from './ui';

/**
 * Asks for the password and a one-time code, and signs in again with both: the server then
 * replaces the session with one that proves multi-factor authentication. A modal dialog keeps
 * the keyboard inside it until it is answered or dismissed with Escape.
 */
export function StepUpDialog(props: {
  username: string;
  reason: string;
  onDone: (success: boolean) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    try {
      await signIn({ username: props.username, password, otp });
      props.onDone(true);
    } catch (error) {
      setNotice(errorNotice(error));
      setBusy(false);
    }
  }

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="step-up-title"
      aria-describedby="step-up-reason"
      onCancel={() => props.onDone(false)}
    >
      <form onSubmit={(event) => void submit(event)}>
        <h2 id="step-up-title">Confirm it's you</h2>
        <p id="step-up-reason">{props.reason}</p>
        <TextField
          id="step-up-password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          autoFocus
          value={password}
          onChange={setPassword}
        />
        <TextField
          id="step-up-otp"
          label="Code from your authenticator"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]{6}"
          maxLength={6}
          required
          value={otp}
          onChange={setOtp}
        />
        <NoticeLine notice={notice} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Checking…' : 'Confirm'}
          </button>
          <button type="button" onClick={() => props.onDone(false)}>
            Cancel
          </button>
        </div>
        <p className="help">
          No authenticator yet? Set one up under{' '}
          <a href="#/account" onClick={() => props.onDone(false)}>
            My account
          </a>{' '}
          first.
        </p>
      </form>
    </dialog>
  );
}
