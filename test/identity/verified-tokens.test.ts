import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeEachDatabase } from '../support/elevate.js';
import { MINUTE } from '../support/clock.js';

// A token whose signature was checked once is remembered; these prove that remembering it never
// lets it outlive its expiry or lets a tampered copy through.
describeEachDatabase('verified tokens', (elevate) => {
  it('accepts a token until the millisecond it expires, however often it was used', async () => {
    const user = await elevate().createUser();
    const token = await elevate().tokenFor(user);
    const issuedAt = elevate().clock.now().getTime();
    const expiresAt = Math.floor(issuedAt / 1000) * 1000 + 60 * MINUTE;

    for (let i = 0; i < 3; i += 1) {
      const response = await elevate().request('GET', '/v1.0/me', { token });
      assert.equal(response.status, 200);
    }

    elevate().clock.advance(expiresAt - issuedAt - 1);
    const last = await elevate().request('GET', '/v1.0/me', { token });
    assert.equal(last.status, 200);
    assert.equal(last.body.id, user.id);

    elevate().clock.advance(1);
    const expired = await elevate().request('GET', '/v1.0/me', { token });
    assert.equal(expired.status, 401);
    const again = await elevate().request('GET', '/v1.0/me', { token });
    assert.equal(again.status, 401);
  });

  it('refuses a copy of an accepted token with its signature changed', async () => {
    const user = await elevate().createUser();
    const token = await elevate().tokenFor(user);
    const accepted = await elevate().request('GET', '/v1.0/me', { token });
    assert.equal(accepted.status, 200);

    const [header, payload, signature = ''] = token.split('.');
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    const tampered = await elevate().request('GET', '/v1.0/me', {
      token: `${header}.${payload}.${flipped}`,
    });
    assert.equal(tampered.status, 401);
  });

  it('stops accepting a remembered token as soon as its account is disabled', async () => {
    const user = await elevate().createUser();
    const token = await elevate().tokenFor(user);
    assert.equal((await elevate().request('GET', '/v1.0/me', { token })).status, 200);

    const disabled = await elevate().request('PATCH', `/v1.0/users/${user.id}`, {
      body: { accountEnabled: false },
    });
    assert.equal(disabled.status, 204);
    assert.equal((await elevate().request('GET', '/v1.0/me', { token })).status, 401);
  });
});
