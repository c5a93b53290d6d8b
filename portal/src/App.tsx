import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type MouseEvent,
  type ReactNode,
} from 'react';
import { loadSession, signOut } from './account';
import { whenSignedOut } from './api';
import { StepUpDialog } from './components/StepUp';
import { describeError } from './errors';
import { AccountPage } from './pages/Account';
import { ApprovalsPage } from './pages/Approvals';
import { AuditPage } from './pages/Audit';
import { GroupPage, GroupsPage } from './pages/Groups';
import { MyRolesPage } from './pages/MyRoles';
import { SignInPage } from './pages/SignIn';
import { navigate, useRoute } from './router';
import { SessionContext, type Session, type SessionActions } from './session';

type State =
  | { kind: 'loading' }
  | { kind: 'signedOut' }
  | { kind: 'failed'; message: string }
  | { kind: 'signedIn'; session: Session };

interface StepUpRequest {
  reason: string;
  resolve: (success: boolean) => void;
}

export function App() {
  const route = useRoute();
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [stepUp, setStepUp] = useState<StepUpRequest | null>(null);
  const mfa = useRef(false);

  const load = useCallback(async () => {
    try {
      const session = await loadSession(mfa.current);
      setState(session ? { kind: 'signedIn', session } : { kind: 'signedOut' });
    } catch (error) {
      setState({ kind: 'failed', message: describeError(error) });
    }
  }, []);

  useEffect(() => {
    whenSignedOut(() => setState({ kind: 'signedOut' }));
    void load();
  }, [load]);

  const actions = useMemo<SessionActions | null>(() => {
    if (state.kind !== 'signedIn') return null;
    return {
      session: state.session,
      refresh: load,
      signOut: async () => {
        await signOut();
        mfa.current = false;
        setState({ kind: 'signedOut' });
        navigate('/sign-in');
      },
      stepUp: (reason) => new Promise<boolean>((resolve) => setStepUp({ reason, resolve })),
    };
  }, [state, load]);

  function finishStepUp(success: boolean) {
    if (!stepUp) return;
    setStepUp(null);
    if (success) {
      mfa.current = true;
      setState((current) =>
        current.kind === 'signedIn'
          ? { kind: 'signedIn', session: { ...current.session, mfa: true } }
          : current,
      );
    }
    stepUp.resolve(success);
  }

  if (state.kind === 'loading') {
    return (
      <Shell>
        <p role="status">Loading…</p>
      </Shell>
    );
  }
  if (state.kind === 'failed') {
    return (
      <Shell>
        <p role="alert" className="notice notice-error">
          {state.message}
        </p>
      </Shell>
    );
  }
  if (state.kind === 'signedOut' || !actions) {
    return (
      <Shell>
        <SignInPage
          onSignedIn={(withCode) => {
            mfa.current = withCode;
            if (route[0] === 'sign-in' || route.length === 0) navigate('/my-roles');
            void load();
          }}
        />
      </Shell>
    );
  }

  const { session } = actions;
  return (
    <SessionContext.Provider value={actions}>
      <Shell session={session} current={route[0] ?? 'my-roles'} onSignOut={actions.signOut}>
        <CurrentPage route={route} session={session} />
        {stepUp ? (
          <StepUpDialog
            username={session.me.userPrincipalName}
            reason={stepUp.reason}
            onDone={finishStepUp}
          />
        ) : null}
      </Shell>
    </SessionContext.Provider>
  );
}

function CurrentPage(props: { route: string[]; session: Session }) {
  const [page, id] = props.route;
  switch (page) {
    case 'approvals':
      return <ApprovalsPage highlight={id ?? null} />;
    case 'groups':
      if (!props.session.mayManageGroups) return <NotAllowed />;
      return id ? <GroupPage groupId={id} /> : <GroupsPage />;
    case 'audit':
      return props.session.mayReadAudit ? <AuditPage /> : <NotAllowed />;
    case 'account':
      return <AccountPage />;
    default:
      return <MyRolesPage />;
  }
}

function NotAllowed() {
  return (
    <section className="page">
      <h1>Not available</h1>
      <p>You don't have permission to see this page.</p>
    </section>
  );
}

interface NavItem {
  route: string;
  label: string;
  show: (session: Session) => boolean;
}

const NAV: NavItem[] = [
  { route: 'my-roles', label: 'My roles', show: () => true },
  { route: 'approvals', label: 'Approvals', show: () => true },
  { route: 'groups', label: 'Privileged access groups', show: (s) => s.mayManageGroups },
  { route: 'audit', label: 'Audit', show: (s) => s.mayReadAudit },
  { route: 'account', label: 'My account', show: () => true },
];

function Shell(props: {
  children: ReactNode;
  session?: Session;
  current?: string;
  onSignOut?: () => Promise<void>;
}) {
  const { session, current, onSignOut } = props;
  return (
    <>
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header className="top">
        <div className="brand">Elevate</div>
        {session ? (
          <nav aria-label="Main">
            <ul>
              {NAV.filter((item) => item.show(session)).map((item) => (
                <li key={item.route}>
                  <a
                    href={`#/${item.route}`}
                    aria-current={current === item.route ? 'page' : undefined}
                  >
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        {session && onSignOut ? (
          <div className="who">
            <span>{session.me.displayName}</span>
            <button type="button" onClick={() => void onSignOut()}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}

/** The skip link moves the focus without changing the hash, which is the portal's route. */
function skipToMain(event: MouseEvent) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}
