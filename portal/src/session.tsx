import { createContext, useContext } from 'react';
import type { User } from './graph';

/** What the portal knows about the person signed in. */
export interface Session {
  me: User;
  /** Role definition ids that reach the user now. */
  roles: Set<string>;
  /** Groups the user owns now, through PIM. */
  ownedGroupIds: string[];
  /**
   * Whether this session was opened with a one-time code. The portal knows it only for sign-ins
   * it made itself; after a reload it assumes not, and the server's MfaRule answer asks again.
   */
  mfa: boolean;
  isAdmin: boolean;
  mayManageGroups: boolean;
  mayReadAudit: boolean;
}

export interface SessionActions {
  session: Session;
  signOut: () => Promise<void>;
  /** Asks for the password and a code, and replaces the session with a multi-factor one. */
  stepUp: (reason: string) => Promise<boolean>;
  refresh: () => Promise<void>;
}

export const SessionContext = createContext<SessionActions | null>(null);

export function useSession(): SessionActions {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession is used outside the signed-in portal.');
  return value;
}
