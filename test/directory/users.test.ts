import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeEachDatabase } from '../support/elevate.js';
import {
  assertGraphError,
  assertRefusedWithoutChange,
  auditEventsFor,
  countRows,
  uniqueTag,
} from './helpers.js';

describeEachDatabase('directory users', (elevate) => {
  const newUserBody = (name: string) => ({
    displayName: `${name} Person`,
    userPrincipalName: `${name}@elevate.local`,
    mail: `${name}@example.com`,
    userType: 'Member',
    accountEnabled: true,
  });

  it('creates a user and reads it back by id and by user principal name', async () => {
    const name = uniqueTag('ann');

    const created = await elevate().request('POST', '/v1.0/users', { body: newUserBody(name) });

    assert.equal(created.status, 201);
    assert.match(created.body['@odata.context'], /\/v1\.0\/\$metadata#users\/\$entity$/);
    assert.match(created.body.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      {
        displayName: created.body.displayName,
        userPrincipalName: created.body.userPrincipalName,
        mail: created.body.mail,
        userType: created.body.userType,
        accountEnabled: created.body.accountEnabled,
        createdDateTime: created.body.createdDateTime,
      },
      {
        displayName: `${name} Person`,
        userPrincipalName: `${name}@elevate.local`,
        mail: `${name}@example.com`,
        userType: 'Member',
        accountEnabled: true,
        createdDateTime: elevate().clock.now().toISOString(),
      },
    );

    const byId = await elevate().request('GET', `/v1.0/users/${created.body.id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.userPrincipalName, `${name}@elevate.local`);

    const byUpn = await elevate().request('GET', `/v1.0/users/${name.toUpperCase()}@elevate.local`);
    assert.equal(byUpn.status, 200);
    assert.equal(byUpn.body.id, created.body.id);
  });

  it('never answers the password or its hash', async () => {
    const name = uniqueTag('pw');
    const body = { ...newUserBody(name), passwordProfile: { password: 'a long secret value 1' } };

    const created = await elevate().request('POST', '/v1.0/users', { body });
    const read = await elevate().request('GET', `/v1.0/users/${created.body.id}`);

    assert.equal(created.status, 201);
    for (const response of [created, read]) {
      const text = JSON.stringify(response.body);
      assert.ok(!text.includes('a long secret value 1'));
      assert.ok(!text.includes('argon2'));
      assert.equal(response.body.passwordProfile, undefined);
    }
  });

  it('updates a user and records which properties changed', async () => {
    const user = await elevate().createUser({ name: uniqueTag('upd') });

    const patched = await elevate().request('PATCH', `/v1.0/users/${user.id}`, {
      body: { displayName: 'Renamed Person', accountEnabled: false, mail: 'NEW@Example.com' },
    });

    assert.equal(patched.status, 204);
    const read = await elevate().request('GET', `/v1.0/users/${user.upn}`);
    assert.equal(read.body.displayName, 'Renamed Person');
    assert.equal(read.body.accountEnabled, false);
    assert.equal(read.body.mail, 'new@example.com');
    const events = await auditEventsFor(elevate(), user.id);
    assert.deepEqual(
      events.map((e) => e.activity),
      ['Add user', 'Update user'],
    );
  });

  it('deletes a user, after which it is not found and cannot sign in', async () => {
    const user = await elevate().createUser({ name: uniqueTag('del') });
    const token = await elevate().tokenFor(user);

    const deleted = await elevate().request('DELETE', `/v1.0/users/${user.id}`);

    assert.equal(deleted.status, 204);
    assertGraphError(
      await elevate().request('GET', `/v1.0/users/${user.id}`),
      404,
      'ResourceNotFound',
    );
    assertGraphError(await elevate().request('GET', '/v1.0/me', { token }), 401);
    const events = await auditEventsFor(elevate(), user.id);
    assert.deepEqual(
      events.map((e) => [e.activity, e.category, e.result, e.initiatorId]),
      [
        ['Add user', 'UserManagement', 'success', elevate().admin.id],
        ['Delete user', 'UserManagement', 'success', elevate().admin.id],
      ],
    );
  });

  it('answers 409 for a user principal name that is taken, in any case', async () => {
    const name = uniqueTag('dup');
    await elevate().request('POST', '/v1.0/users', { body: newUserBody(name) });

    const again = {
      ...newUserBody(name),
      userPrincipalName: `${name.toUpperCase()}@ELEVATE.local`,
    };
    await assertRefusedWithoutChange(
      elevate(),
      () => elevate().request('POST', '/v1.0/users', { body: again }),
      409,
      'ObjectConflict',
    );
  });

  it('refuses properties the server owns, such as id and createdDateTime', async () => {
    for (const extra of [
      { id: '00000000-0000-0000-0000-000000000001' },
      { createdDateTime: '2001-01-01T00:00:00Z' },
      { passwordHash: 'x' },
      { isAdmin: true },
    ]) {
      const body = { ...newUserBody(uniqueTag('mass')), ...extra };
      const response = await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('POST', '/v1.0/users', { body }),
        400,
        'BadRequest',
      );
      assert.match(response.body.error.message, new RegExp(Object.keys(extra)[0]!));
    }
  });

  it('refuses malformed bodies, wrong types and over-long text, creating nobody', async () => {
    const name = uniqueTag('bad');
    const valid = newUserBody(name);
    const bodies: unknown[] = [
      { ...valid, displayName: 'x'.repeat(10_000) },
      { ...valid, displayName: 42 },
      { ...valid, displayName: '   ' },
      { ...valid, accountEnabled: 'yes' },
      { ...valid, userType: 'Owner' },
      { ...valid, userPrincipalName: 'not-an-address' },
      { ...valid, userPrincipalName: `${name}@other.example` },
      { ...valid, mail: 'nope' },
      { ...valid, passwordProfile: { password: 'short' } },
      { displayName: 'No Name' },
      [valid],
    ];

    for (const body of bodies) {
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('POST', '/v1.0/users', { body }),
        400,
        'BadRequest',
      );
    }
    await assertRefusedWithoutChange(
      elevate(),
      () =>
        elevate().request('POST', '/v1.0/users', {
          body: '{"displayName": "Broken", ',
          headers: { 'content-type': 'application/json' },
        }),
      400,
      'BadRequest',
    );
    const lookup = await elevate().request('GET', `/v1.0/users/${name}@elevate.local`);
    assert.equal(lookup.status, 404);
  });

  it('accepts a guest from another domain, and a member only in its own domain', async () => {
    const name = uniqueTag('guest');

    const guest = await elevate().request('POST', '/v1.0/users', {
      body: {
        ...newUserBody(name),
        userPrincipalName: `${name}@partner.example`,
        userType: 'guest',
      },
    });
    assert.equal(guest.status, 201);
    assert.equal(guest.body.userType, 'Guest');

    await assertRefusedWithoutChange(
      elevate(),
      () =>
        elevate().request('PATCH', `/v1.0/users/${guest.body.id}`, {
          body: { userType: 'Member' },
        }),
      400,
    );
    const read = await elevate().request('GET', `/v1.0/users/${guest.body.id}`);
    assert.equal(read.body.userType, 'Guest');
  });

  it('refuses a bad update and leaves the user as it was', async () => {
    const user = await elevate().createUser({ name: uniqueTag('keep') });
    const before = await elevate().request('GET', `/v1.0/users/${user.id}`);

    for (const body of [
      { displayName: 'y'.repeat(10_000) },
      { userPrincipalName: 'someone-else@elevate.local' },
      { id: '00000000-0000-0000-0000-000000000002' },
      { createdDateTime: '2001-01-01T00:00:00Z' },
      { accountEnabled: 0 },
      { mail: 'not mail' },
    ]) {
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('PATCH', `/v1.0/users/${user.id}`, { body }),
        400,
        'BadRequest',
      );
    }

    const after = await elevate().request('GET', `/v1.0/users/${user.id}`);
    assert.deepEqual(after.body, before.body);
  });

  it('answers 404 in Graph shape for unknown users on every verb', async () => {
    const unknownId = '0a0a0a0a-0000-4000-8000-000000000000';
    for (const id of [unknownId, 'nobody@elevate.local']) {
      assertGraphError(
        await elevate().request('GET', `/v1.0/users/${id}`),
        404,
        'ResourceNotFound',
      );
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('PATCH', `/v1.0/users/${id}`, { body: { displayName: 'Ghost' } }),
        404,
        'ResourceNotFound',
      );
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('DELETE', `/v1.0/users/${id}`),
        404,
        'ResourceNotFound',
      );
    }
  });

  it('does not let an administrator delete its own account', async () => {
    const admin = await elevate().createAdmin();
    const users = await countRows(elevate(), 'users');

    const response = await elevate().request('DELETE', `/v1.0/users/${admin.id}`, { as: admin });

    assertGraphError(response, 400, 'BadRequest');
    assert.equal(await countRows(elevate(), 'users'), users);
  });

  it('answers /me for any signed-in user, guests included', async () => {
    const guest = await elevate().createUser({ name: uniqueTag('me'), userType: 'Guest' });

    const me = await elevate().request('GET', '/v1.0/me', { as: guest });

    assert.equal(me.status, 200);
    assert.equal(me.body.id, guest.id);
    assert.equal(me.body.userType, 'Guest');
  });
});
