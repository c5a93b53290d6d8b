import {
  useCallback,
  useEffect,
  useRef,
  useState,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
} from 'react';
import { describeError } from '../errors';

/**
 * A page with its heading. The heading takes the focus when the page opens, so that a screen
 * reader announces where the user is now and the keyboard starts from the top of the page.
 */
export function Page(props: { title: string; children: ReactNode; intro?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
    document.title = `${props.title} · Elevate`;
  }, [props.title]);

  return (
    <section aria-labelledby="page-title" className="page">
      <h1 id="page-title" tabIndex={-1} ref={heading}>
        {props.title}
      </h1>
      {props.intro ? <p className="intro">{props.intro}</p> : null}
      {props.children}
    </section>
  );
}

interface FieldProps<T extends string> {
  id: string;
  label: string;
  value: T;
  onChange: (value: T) => void;
}

/** A labelled input whose value lives in the caller's state. */
export function TextField(
  props: FieldProps<string> &
    Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange'>,
) {
  const { id, label, value, onChange, ...input } = props;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} onChange={(event) => onChange(event.target.value)} {...input} />
    </div>
  );
}

/** A labelled choice among the `<option>`s it is given, whose value lives in the caller's state. */
export function SelectField<T extends string>(
  props: FieldProps<T> & Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id' | 'value' | 'onChange'>,
) {
  const { id, label, value, onChange, children, ...select } = props;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(event) => onChange(event.target.value as T)}
        {...select}
      >
        {children}
      </select>
    </div>
  );
}

export type Notice = { kind: 'error' | 'success'; text: string } | null;

/** Errors and confirmations, announced to screen readers as they appear. */
export function NoticeLine(props: { notice: Notice }) {
  const { notice } = props;
  return (
    <div
      className={notice ? `notice notice-${notice.kind}` : 'notice-empty'}
      role={notice?.kind === 'error' ? 'alert' : 'status'}
      aria-live={notice?.kind === 'error' ? 'assertive' : 'polite'}
    >
      {notice?.text ?? ''}
    </div>
  );
}

export function errorNotice(error: unknown): Notice {
  return { kind: 'error', text: describeError(error) };
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Loads data for a page, and again whenever `reload` is called or a dependency changes. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  // The caller names what the load depends on, as with useEffect.
  const run = useCallback(load, deps);

  useEffect(() => {
    let current = true;
    setLoading(true);
    run().then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setError(describeError(failure));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [run, round]);

  return { data, error, loading, reload: () => setRound((r) => r + 1) };
}

/** The loading and error states of a section, or its content once loaded. */
export function LoadState<T>(props: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  const { loaded } = props;
  if (loaded.error) {
    return (
      <p className="notice notice-error" role="alert">
        {loaded.error}
      </p>
    );
  }
  if (loaded.data === null) {
    return (
      <p className="muted" role="status">
        Loading…
      </p>
    );
  }
  return <>{props.children(loaded.data)}</>;
}
