import assert from 'node:assert/strict';
import { it } from 'node:test';
import { totpCode } from '../../src/identity/totp.js';
import { describeEachDatabase } from '../support/elevate.js';

const METHODS = '/v1.0/me/authentication/totpMethods';

describeEachDatabase('GET /v1.0/me/authentication/totpMethods', (elevate) => {
  it("lists the caller's own methods with their status, and never their secret", async () => {
    const user = await elevate().createUser();
    const other = await elevate().createUser();
    const none = await elevate().request('GET', METHODS, { as: user });
    const enrolled = await elevate().request('POST', METHODS, { as: user });
    await elevate().request('POST', METHODS, { as: other });
    const pending = await elevate().request('GET', METHODS, { as: user });
    const verified = await elevate().request('POST', `${METHODS}/${enrolled.body.id}/verify`, {
      as: user,
      body: { code: totpCode(enrolled.body.secretKey, elevate().clock.now()) },
    });
    const active = await elevate().request('GET', METHODS, { as: user });

    assert.equal(none.status, 200);
    assert.deepEqual(none.body.value, []);
    assert.deepEqual(pending.body.value, [
      {
        id: enrolled.body.id,
        status: 'pending',
        createdDateTime: elevate().clock.now().toISOString(),
      },
    ]);
    assert.equal(verified.status, 204);
    assert.deepEqual(
      active.body.value.map((m: { id: string; status: string }) => [m.id, m.status]),
      [[enrolled.body.id, 'active']],
    );
    assert.ok(!JSON.stringify(active.body).includes(enrolled.body.secretKey));
  });

  it('needs a signed-in caller', async () => {
    const response = await elevate().request('GET', METHODS, { token: null });

    assert.equal(response.status, 401);
  });
});
