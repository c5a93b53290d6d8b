import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { actorOf } from '../http/actor.js';
import { forbidden, GraphError } from '../http/errors.js';
import { SESSION_COOKIE, SESSION_LIFETIME_MS, type SessionStore } from './sessions.js';
import type { SignInResult, SignInService } from './sign-in.js';
import { TOKEN_LIFETIME_SECONDS, type TokenService } from './tokens.js';
import type { TotpMethods } from './totp-methods.js';

export interface IdentityRouteOptions {
  signIn: SignInService;
  tokens: TokenService;
  sessions: SessionStore;
  totp: TotpMethods;
  portalOrigin: string;
  secureCookies: boolean;
}

const Credentials = {
  username: Type.String({ maxLength: 256 }),
  password: Type.String({ maxLength: 256 }),
  otp: Type.Optional(Type.String({ maxLength: 16 })),
};

/** The token endpoint and portal sign-in: public routes, outside `/v1.0`. */
export const signInRoutes: FastifyPluginAsyncTypebox<IdentityRouteOptions> = async (
  app,
  options,
) => {
  const { signIn, tokens, sessions } = options;

  // OAuth 2.0 answers errors in its own shape, so the body is checked here rather than by a
  // schema whose failures would come out in Graph's shape.
  app.post(
    '/oauth2/v2.0/token',
    {
      schema: {
        tags: ['sign-in'],
        consumes: ['application/x-www-form-urlencoded'],
        security: [],
        description: 'Resource owner password grant; add `otp` for a multi-factor token.',
      },
      config: { rateLimit: { max: 60, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, unknown>;
      const field = (name: string) => (typeof form[name] === 'string' ? form[name] : undefined);
      if (field('grant_type') !== 'password') {
        return oauthError(reply, 400, 'unsupported_grant_type', 'grant_type must be password.');
      }
      const username = field('username');
      const password = field('password');
      if (!username || !password || username.length > 256 || password.length > 256) {
        return oauthError(reply, 400, 'invalid_request', 'username and password are required.');
      }

      const result = await signIn.signIn({
        username,
        password,
        otp: field('otp'),
        ip: request.ip,
        correlationId: request.id,
      });
      if (!result.ok) return oauthFailure(reply, result);

      const accessToken = await tokens.issue({
        oid: result.user.id,
        upn: result.user.user_principal_name,
        amr: result.amr,
      });
      return reply.header('cache-control', 'no-store').send({
        token_type: 'Bearer',
        access_token: accessToken,
        expires_in: TOKEN_LIFETIME_SECONDS,
      });
    },
  );

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['sign-in'],
        security: [],
        body: Type.Object(Credentials, { additionalProperties: false }),
      },
      config: { rateLimit: { max: 60, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      requirePortalOrigin(request.headers.origin, options.portalOrigin);
      const result = await signIn.signIn({
        ...request.body,
        ip: request.ip,
        correlationId: request.id,
      });
      if (!result.ok) {
        throw result.reason === 'throttled'
          ? new GraphError(429, 'TooManyRequests', 'Too many failed sign-ins; try again later.')
          : new GraphError(401, 'InvalidCredentials', 'The user name, password or code is wrong.');
      }

      const previous = request.cookies[SESSION_COOKIE];
      if (previous) await sessions.end(previous);
      const value = await sessions.create(result.user.id, result.amr);
      return reply
        .setCookie(SESSION_COOKIE, value, {
          httpOnly: true,
          sameSite: 'strict',
          secure: options.secureCookies,
          path: '/',
          maxAge: SESSION_LIFETIME_MS / 1000,
        })
        .status(204)
        .send();
    },
  );

  app.post(
    '/auth/logout',
    { schema: { tags: ['sign-in'], security: [] } },
    async (request, reply) => {
      requirePortalOrigin(request.headers.origin, options.portalOrigin);
      const value = request.cookies[SESSION_COOKIE];
      if (value) await sessions.end(value);
      return reply.clearCookie(SESSION_COOKIE, { path: '/' }).status(204).send();
    },
  );
};

/** TOTP enrolment under `/v1.0/me/authentication`. */
export const totpRoutes: FastifyPluginAsyncTypebox<IdentityRouteOptions> = async (
  app,
  { totp },
) => {
  app.get('/me/authentication/totpMethods', { schema: { tags: ['sign-in'] } }, async (request) => {
    const methods = await totp.list(actorOf(request));
    return { value: methods };
  });

  app.post(
    '/me/authentication/totpMethods',
    { schema: { tags: ['sign-in'] } },
    async (request, reply) => {
      const method = await totp.enrol(actorOf(request));
      return reply.status(201).send(method);
    },
  );

  app.post(
    '/me/authentication/totpMethods/:id/verify',
    {
      schema: {
        tags: ['sign-in'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: Type.Object(
          { code: Type.String({ minLength: 1, maxLength: 16 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      await totp.verify(actorOf(request), request.params.id, request.body.code);
      return reply.status(204).send();
    },
  );
};

function requirePortalOrigin(origin: string | undefined, portalOrigin: string): void {
  // Sign-in with a cookie is a state change too: a foreign page must not sign a browser in or out.
  if (origin !== undefined && origin !== portalOrigin) {
    throw forbidden('Sign-in requests must come from the portal.');
  }
}

function oauthFailure(reply: FastifyReply, result: Extract<SignInResult, { ok: false }>) {
  return result.reason === 'throttled'
    ? oauthError(reply, 429, 'invalid_grant', 'Too many failed sign-ins; try again later.')
    : oauthError(reply, 400, 'invalid_grant', 'The user name, password or code is wrong.');
}

function oauthError(reply: FastifyReply, status: number, error: string, description: string) {
  return reply.status(status).header('cache-control', 'no-store').send({
    error,
    error_description: description,
  });
}
