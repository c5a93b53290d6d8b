import assert from 'node:assert/strict';
import { it } from 'node:test';
import { totpCode } from '../../src/identity/totp.js';
import { HOUR, MINUTE } from '../support/clock.js';
import {
  ADMIN_PASSWORD,
  describeEachDatabase,
  PORTAL_ORIGIN,
  type TestElevate,
  type TestUser,
} from '../support/elevate.js';

const FOREIGN_ORIGIN = 'https://attacker.example';

interface Login {
  status: number;
  body: string;
  setCookie: string | undefined;
  session: string | undefined;
}

async function login(
  elevate: TestElevate,
  credentials: { username: string; password: string; otp?: string },
  origin: string | null = PORTAL_ORIGIN,
): Promise<Login> {
  const response = await elevate.app.server.inject({
    method: 'POST',
    url: '/auth/login',
    payload: credentials,
    headers: origin ? { origin } : {},
  });
  const header = response.headers['set-cookie'];
  const setCookie = Array.isArray(header) ? header.join('\n') : header;
  const session = response.cookies.find((c) => c.name === 'elevate_session')?.value;
  return { status: response.statusCode, body: response.body, setCookie, session };
}

/** A request made the way the portal's pages make it: the session cookie and no bearer token. */
function withSession(
  elevate: TestElevate,
  method: 'GET' | 'POST',
  url: string,
  session: string,
  origin: string | null = PORTAL_ORIGIN,
) {
  return elevate.request(method, url, {
    token: null,
    headers: { cookie: `elevate_session=${session}`, ...(origin ? { origin } : {}) },
  });
}

async function totpMethodCount(elevate: TestElevate, user: TestUser): Promise<number> {
  const rows = await elevate.app.db.kysely
    .selectFrom('totp_methods')
    .select('id')
    .where('user_id', '=', user.id)
    .execute();
  return rows.length;
}

async function sessionAmrs(elevate: TestElevate, user: TestUser): Promise<string[][]> {
  const rows = await elevate.app.db.kysely
    .selectFrom('sessions')
    .select('amr')
    .where('user_id', '=', user.id)
    .execute();
  return rows.map((row) => JSON.parse(row.amr) as string[]);
}

describeEachDatabase('portal sessions', (elevate) => {
  let counter = 0;
  const password = 'a long enough password 3';
  const newUser = () => elevate().createUser({ name: `portal${++counter}`, password });

  it('signs in with JSON credentials and sets a strict, httpOnly session cookie', async () => {
    const user = await newUser();

    const result = await login(elevate(), { username: user.upn, password });

    assert.equal(result.status, 204);
    assert.equal(result.body, '');
    assert.ok(result.session && result.session.length >= 43);
    const cookie = result.setCookie ?? '';
    assert.match(cookie, /^elevate_session=[^;]+;/);
    assert.match(cookie, /;\s*HttpOnly/i);
    assert.match(cookie, /;\s*SameSite=Strict/i);
    assert.match(cookie, /;\s*Path=\/(;|$)/);
    assert.match(cookie, /;\s*Max-Age=28800/);
  });

  it('accepts the session cookie on /v1.0 without a bearer token', async () => {
    const user = await newUser();
    const { session } = await login(elevate(), { username: user.upn, password });
    assert.ok(session);

    const me = await withSession(elevate(), 'GET', '/v1.0/me', session);

    assert.equal(me.status, 200);
    assert.equal(me.body.id, user.id);
    assert.equal(me.body.userPrincipalName, user.upn);
  });

  it('refuses a state change made with the cookie from another site or no Origin', async () => {
    const user = await newUser();
    const { session } = await login(elevate(), { username: user.upn, password });
    assert.ok(session);

    for (const origin of [FOREIGN_ORIGIN, 'null', null]) {
      const response = await withSession(
        elevate(),
        'POST',
        '/v1.0/me/authentication/totpMethods',
        session,
        origin,
      );
      assert.equal(response.status, 403, `Origin ${origin}`);
      assert.equal(response.body.error.code, 'Authorization_RequestDenied');
    }
    assert.equal(await totpMethodCount(elevate(), user), 0);

    const own = await withSession(
      elevate(),
      'POST',
      '/v1.0/me/authentication/totpMethods',
      session,
    );
    assert.equal(own.status, 201);
    assert.equal(own.body.status, 'pending');
    assert.equal(await totpMethodCount(elevate(), user), 1);
  });

  it('refuses a sign-in posted from another site, and starts no session', async () => {
    const user = await newUser();

    const result = await login(elevate(), { username: user.upn, password }, FOREIGN_ORIGIN);

    assert.equal(result.status, 403);
    assert.equal(result.session, undefined);
    assert.deepEqual(await sessionAmrs(elevate(), user), []);
  });

  it('refuses a wrong password with 401, no cookie and an audited failure', async () => {
    const user = await newUser();

    const result = await login(elevate(), { username: user.upn, password: 'wrong password 3' });

    assert.equal(result.status, 401);
    assert.equal(JSON.parse(result.body).error.code, 'InvalidCredentials');
    assert.ok(!result.body.includes('wrong password 3'));
    assert.equal(result.session, undefined);
    assert.deepEqual(await sessionAmrs(elevate(), user), []);
    const failures = await elevate()
      .app.db.kysely.selectFrom('audit_events')
      .innerJoin('audit_targets', 'audit_targets.audit_event_id', 'audit_events.id')
      .select(['audit_events.result', 'audit_events.result_reason'])
      .where('audit_targets.target_id', '=', user.id)
      .where('audit_events.activity_display_name', '=', 'Sign-in failed')
      .execute();
    assert.deepEqual(failures, [
      { result: 'failure', result_reason: 'Invalid username or password' },
    ]);
  });

  it('ends the session on the server at logout', async () => {
    const user = await newUser();
    const { session } = await login(elevate(), { username: user.upn, password });
    assert.ok(session);

    const logout = await elevate().app.server.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie: `elevate_session=${session}`, origin: PORTAL_ORIGIN },
    });

    assert.equal(logout.statusCode, 204);
    assert.match(String(logout.headers['set-cookie']), /elevate_session=;/);
    const after = await withSession(elevate(), 'GET', '/v1.0/me', session);
    assert.equal(after.status, 401);
    assert.deepEqual(await sessionAmrs(elevate(), user), []);
  });

  it('replaces the session a browser already holds when it signs in again', async () => {
    const user = await newUser();
    const first = await login(elevate(), { username: user.upn, password });
    assert.ok(first.session);

    const second = await elevate().app.server.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: user.upn, password },
      headers: { origin: PORTAL_ORIGIN, cookie: `elevate_session=${first.session}` },
    });

    assert.equal(second.statusCode, 204);
    assert.equal((await withSession(elevate(), 'GET', '/v1.0/me', first.session)).status, 401);
    assert.equal((await sessionAmrs(elevate(), user)).length, 1);
  });

  it('ends a session eight hours after sign-in', async () => {
    const user = await newUser();
    const { session } = await login(elevate(), { username: user.upn, password });
    assert.ok(session);

    elevate().clock.advance(8 * HOUR - 1);
    assert.equal((await withSession(elevate(), 'GET', '/v1.0/me', session)).status, 200);
    elevate().clock.advance(1);
    assert.equal((await withSession(elevate(), 'GET', '/v1.0/me', session)).status, 401);
  });

  it('stops honouring the session of an account that is disabled', async () => {
    const user = await newUser();
    const { session } = await login(elevate(), { username: user.upn, password });
    assert.ok(session);

    const disable = await elevate().request('PATCH', `/v1.0/users/${user.id}`, {
      body: { accountEnabled: false },
    });

    assert.equal(disable.status, 204);
    assert.equal((await withSession(elevate(), 'GET', '/v1.0/me', session)).status, 401);
  });

  it('records multi-factor authentication on a session signed in with a TOTP code', async () => {
    const user = await newUser();
    const { session } = await login(elevate(), { username: user.upn, password });
    assert.ok(session);
    const enrolled = await withSession(
      elevate(),
      'POST',
      '/v1.0/me/authentication/totpMethods',
      session,
    );
    const secret = enrolled.body.secretKey as string;
    const verified = await elevate().request(
      'POST',
      `/v1.0/me/authentication/totpMethods/${enrolled.body.id}/verify`,
      {
        token: null,
        headers: { cookie: `elevate_session=${session}`, origin: PORTAL_ORIGIN },
        body: { code: totpCode(secret, elevate().clock.now()) },
      },
    );
    assert.equal(verified.status, 204);

    elevate().clock.advance(MINUTE);
    const otp = totpCode(secret, elevate().clock.now());
    const withOtp = await login(elevate(), { username: user.upn, password, otp });

    assert.equal(withOtp.status, 204);
    assert.ok(withOtp.session);
    assert.equal((await withSession(elevate(), 'GET', '/v1.0/me', withOtp.session)).status, 200);
    const amrs = await sessionAmrs(elevate(), user);
    assert.deepEqual(amrs.map((amr) => amr.includes('mfa')).sort(), [false, true]);
    const replay = await login(elevate(), { username: user.upn, password, otp });
    assert.equal(replay.status, 401);
  });

  it('keeps bearer tokens working for API clients alongside sessions', async () => {
    const response = await elevate().request('POST', '/oauth2/v2.0/token', {
      token: null,
      form: { grant_type: 'password', username: 'admin@elevate.local', password: ADMIN_PASSWORD },
    });
    assert.equal(response.status, 200);

    const enrol = await elevate().request('POST', '/v1.0/me/authentication/totpMethods', {
      token: response.body.access_token,
    });
    assert.equal(enrol.status, 201);
  });
});
