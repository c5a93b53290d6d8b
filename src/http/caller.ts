/** Who is calling, as proven by a token or a session cookie; never taken from a request body. */
export interface Caller {
  userId: string;
  userPrincipalName: string;
  displayName: string;
  /** Authentication methods: `pwd`, and `otp` and `mfa` when a TOTP code was given. */
  amr: string[];
  via: 'token' | 'session';
  ip: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

export function hasMfa(caller: Caller): boolean {
  return caller.amr.includes('mfa');
}
