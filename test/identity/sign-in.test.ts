import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeJwt } from 'jose';
import { totpCode } from '../../src/identity/totp.js';
import { ADMIN_PASSWORD, describeEachDatabase } from '../support/elevate.js';
import { MINUTE } from '../support/clock.js';

describeEachDatabase('sign-in', (elevate) => {
  it('answers health checks without a token', async () => {
    const response = await elevate().request('GET', '/healthz', { token: null });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { status: 'ok' });
  });

  it('issues a bearer token for the bootstrap admin with a password', async () => {
    const response = await elevate().request('POST', '/oauth2/v2.0/token', {
      token: null,
      form: { grant_type: 'password', username: 'admin@elevate.local', password: ADMIN_PASSWORD },
    });

    assert.equal(response.status, 200);
    assert.equal(response.body.token_type, 'Bearer');
    assert.equal(response.body.expires_in, 3600);
    const claims = decodeJwt(response.body.access_token);
    assert.equal(claims.upn, 'admin@elevate.local');
    assert.deepEqual(claims.amr, ['pwd']);

    const me = await elevate().request('GET', '/v1.0/me', { token: response.body.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, claims.oid);
  });

  it('refuses a wrong password in the OAuth shape without echoing it', async () => {
    const response = await elevate().request('POST', '/oauth2/v2.0/token', {
      token: null,
      form: { grant_type: 'password', username: 'admin@elevate.local', password: 'hunter2-wrong' },
    });

    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'invalid_grant');
    assert.ok(!JSON.stringify(response.body).includes('hunter2'));
  });

  it('answers 401 in Graph shape without a token or with a forged one', async () => {
    const none = await elevate().request('GET', '/v1.0/me', { token: null });
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'InvalidAuthenticationToken');
    assert.ok(none.body.error.innerError['request-id']);

    const token = await elevate().tokenFor(elevate().admin);
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    const bad = await elevate().request('GET', '/v1.0/me', { token: forged });
    assert.equal(bad.status, 401);

    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    const none2 = await elevate().request('GET', '/v1.0/me', { token: unsigned });
    assert.equal(none2.status, 401);
  });

  it('refuses an expired token', async () => {
    const user = await elevate().createUser();
    const token = await elevate().tokenFor(user);
    elevate().clock.advance(61 * MINUTE);
    const response = await elevate().request('GET', '/v1.0/me', { token });
    assert.equal(response.status, 401);
  });

  it('enrols TOTP, then issues an MFA token for a valid code and refuses its reuse', async () => {
    const password = 'a long enough password 1';
    const user = await elevate().createUser({ password });

    const enrolled = await elevate().request('POST', '/v1.0/me/authentication/totpMethods', {
      as: user,
    });
    assert.equal(enrolled.status, 201);
    assert.equal(enrolled.body.status, 'pending');
    assert.match(enrolled.body.otpauthUri, /^otpauth:\/\/totp\//);

    const secret = enrolled.body.secretKey as string;
    const verify = await elevate().request(
      'POST',
      `/v1.0/me/authentication/totpMethods/${enrolled.body.id}/verify`,
      { as: user, body: { code: totpCode(secret, elevate().clock.now()) } },
    );
    assert.equal(verify.status, 204);

    elevate().clock.advance(MINUTE);
    const code = totpCode(secret, elevate().clock.now());
    const form = { grant_type: 'password', username: user.upn, password, otp: code };
    const first = await elevate().request('POST', '/oauth2/v2.0/token', { token: null, form });
    assert.equal(first.status, 200);
    assert.deepEqual(decodeJwt(first.body.access_token).amr, ['pwd', 'otp', 'mfa']);

    const replay = await elevate().request('POST', '/oauth2/v2.0/token', { token: null, form });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
  });

  it('verifies a TOTP method once only, and audits its registration', async () => {
    const user = await elevate().createUser({ password: 'a long enough password 4' });
    const enrolled = await elevate().request('POST', '/v1.0/me/authentication/totpMethods', {
      as: user,
    });
    const secret = enrolled.body.secretKey as string;
    const verifyUrl = `/v1.0/me/authentication/totpMethods/${enrolled.body.id}/verify`;

    const current = totpCode(secret, elevate().clock.now());
    const wrongCode = current === '000000' ? '111111' : '000000';
    const wrong = await elevate().request('POST', verifyUrl, {
      as: user,
      body: { code: wrongCode },
    });
    assert.equal(wrong.status, 400);
    const first = await elevate().request('POST', verifyUrl, {
      as: user,
      body: { code: totpCode(secret, elevate().clock.now()) },
    });
    assert.equal(first.status, 204);
    elevate().clock.advance(MINUTE);
    const again = await elevate().request('POST', verifyUrl, {
      as: user,
      body: { code: totpCode(secret, elevate().clock.now()) },
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error.code, 'BadRequest');

    const events = await elevate()
      .app.db.kysely.selectFrom('audit_events')
      .select(['activity_display_name', 'result', 'initiator_id'])
      .where('initiator_id', '=', user.id)
      .orderBy('activity_display_name')
      .execute();
    assert.deepEqual(events, [
      {
        activity_display_name: 'User registered security info',
        result: 'success',
        initiator_id: user.id,
      },
      {
        activity_display_name: 'User started security info registration',
        result: 'success',
        initiator_id: user.id,
      },
    ]);
    const secretInAudit = await elevate()
      .app.db.kysely.selectFrom('audit_events')
      .select('id')
      .where((eb) =>
        eb.or([
          eb('additional_details', 'like', `%${secret}%`),
          eb('target_resources', 'like', `%${secret}%`),
        ]),
      )
      .execute();
    assert.deepEqual(secretInAudit, []);
  });

  it('throttles an account after repeated failures, even for the right password', async () => {
    const password = 'a long enough password 2';
    const user = await elevate().createUser({ password });
    const attempt = (pw: string) =>
      elevate().request('POST', '/oauth2/v2.0/token', {
        token: null,
        form: { grant_type: 'password', username: user.upn, password: pw },
        headers: { 'x-forwarded-for': '10.0.0.9' },
      });

    for (let i = 0; i < 5; i++) assert.equal((await attempt('wrong password!')).status, 400);
    assert.equal((await attempt(password)).status, 429);

    elevate().clock.advance(16 * MINUTE);
    assert.equal((await attempt(password)).status, 200);

    const audit = await elevate()
      .app.db.kysely.selectFrom('audit_events')
      .select('activity_display_name')
      .where('activity_display_name', '=', 'Sign-in failed')
      .execute();
    assert.ok(audit.length >= 6);
  });
});
