import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import { boundText, prepared } from '../db/prepared.js';
import type { UserRow } from '../directory/store.js';
import { SESSION_COOKIE, type SessionStore } from '../identity/sessions.js';
import type { TokenService } from '../identity/tokens.js';
import type { Caller } from './caller.js';
import { forbidden, unauthenticated } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface Authenticator {
  /** The caller of the request, or a 401 or 403 GraphError. */
  authenticate(request: FastifyRequest): Promise<Caller>;
}

/**
 * Accepts a bearer token or the portal's session cookie. The account is read on every request,
 * so that disabling or deleting a user ends its access at once, whatever tokens it still holds.
 */
export function createAuthenticator(
  db: Db,
  tokens: TokenService,
  sessions: SessionStore,
  portalOrigin: string,
): Authenticator {
  async function identify(
    request: FastifyRequest,
  ): Promise<{ userId: string; amr: string[]; via: Caller['via'] }> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const claims = match?.[1] ? await tokens.verify(match[1]) : null;
      if (!claims) throw unauthenticated('The access token is missing, invalid or expired.');
      return { userId: claims.oid, amr: claims.amr, via: 'token' };
    }

    const cookie = request.cookies[SESSION_COOKIE];
    const session = cookie ? await sessions.find(cookie) : null;
    if (!session) throw unauthenticated('Sign in first: no valid access token or session.');

    // A cookie rides along with any request the browser makes, including forged cross-site
    // ones; state changes made with it must come from the portal's own pages.
    if (!SAFE_METHODS.has(request.method) && request.headers.origin !== portalOrigin) {
      throw forbidden(
        'Requests that change state with a session cookie must come from the portal.',
      );
    }
    return { userId: session.userId, amr: session.amr, via: 'session' };
  }

  return {
    async authenticate(request) {
      const { userId, amr, via } = await identify(request);
      const { rows } = await accountById(db.kysely, { id: userId });
      const user = rows[0];
      if (!user || user.account_enabled !== 1) {
        throw unauthenticated('The account is disabled or no longer exists.');
      }

      return {
        userId: user.id,
        userPrincipalName: user.user_principal_name,
        displayName: user.display_name,
        amr,
        via,
        ip: request.ip,
      };
    },
  };
}

/** The account behind every request, read with a statement compiled once. */
const accountById = prepared<
  { id: string },
  Pick<UserRow, 'id' | 'user_principal_name' | 'display_name' | 'account_enabled'>
>((db, arg) =>
  db
    .selectFrom('users')
    .select(['id', 'user_principal_name', 'display_name', 'account_enabled'])
    .where('id', '=', boundText(arg('id'))),
);
