import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeEachDatabase } from '../support/elevate.js';
import {
  assertGraphError,
  assertRefusedWithoutChange,
  auditEventsFor,
  reference,
  uniqueTag,
} from './helpers.js';

describeEachDatabase('directory membership', (elevate) => {
  const ids = (response: { body: { value: { id: string }[] } }) =>
    response.body.value.map((item) => item.id).sort();

  it('adds members and owners by reference and lists each relationship apart', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('team') });
    const alice = await elevate().createUser({ name: uniqueTag('alice') });
    const bob = await elevate().createUser({ name: uniqueTag('bob') });
    const carol = await elevate().createUser({ name: uniqueTag('carol') });

    for (const [user, relationship] of [
      [alice, 'members'],
      [bob, 'members'],
      [carol, 'owners'],
    ] as const) {
      const added = await elevate().request(
        'POST',
        `/v1.0/groups/${group.id}/${relationship}/$ref`,
        { body: reference(user.id) },
      );
      assert.equal(added.status, 204);
    }

    const members = await elevate().request('GET', `/v1.0/groups/${group.id}/members`);
    assert.equal(members.status, 200);
    assert.match(members.body['@odata.context'], /#directoryObjects$/);
    assert.deepEqual(ids(members), [alice.id, bob.id].sort());
    assert.ok(
      members.body.value.every(
        (m: { '@odata.type': string }) => m['@odata.type'] === '#microsoft.graph.user',
      ),
    );
    const owners = await elevate().request('GET', `/v1.0/groups/${group.id}/owners`);
    assert.deepEqual(ids(owners), [carol.id]);
  });

  it('lists groups a user belongs to in transitiveMemberOf, and not those it owns', async () => {
    const first = await elevate().createGroup({ name: uniqueTag('first') });
    const second = await elevate().createGroup({ name: uniqueTag('second') });
    const owned = await elevate().createGroup({ name: uniqueTag('owned') });
    const user = await elevate().createUser({ name: uniqueTag('dave') });
    for (const group of [first, second]) {
      await elevate().request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
        body: reference(user.id),
      });
    }
    await elevate().request('POST', `/v1.0/groups/${owned.id}/owners/$ref`, {
      body: reference(user.id),
    });

    const memberOf = await elevate().request('GET', `/v1.0/users/${user.id}/transitiveMemberOf`);

    assert.equal(memberOf.status, 200);
    assert.deepEqual(ids(memberOf), [first.id, second.id].sort());
    assert.equal(memberOf.body.value[0]['@odata.type'], '#microsoft.graph.group');
    const own = await elevate().request('GET', `/v1.0/users/${user.upn}/transitiveMemberOf`, {
      as: user,
    });
    assert.deepEqual(ids(own), [first.id, second.id].sort());
  });

  it('removes a member by reference, at once', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('leave') });
    const user = await elevate().createUser({ name: uniqueTag('erin') });
    await elevate().request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
      body: reference(user.id),
    });

    const removed = await elevate().request(
      'DELETE',
      `/v1.0/groups/${group.id}/members/${user.id}/$ref`,
    );

    assert.equal(removed.status, 204);
    const members = await elevate().request('GET', `/v1.0/groups/${group.id}/members`);
    assert.deepEqual(members.body.value, []);
    const memberOf = await elevate().request('GET', `/v1.0/users/${user.id}/transitiveMemberOf`);
    assert.deepEqual(memberOf.body.value, []);
  });

  it('writes an audit event for every membership change, naming group and user', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('audited') });
    const user = await elevate().createUser({ name: uniqueTag('frank') });
    elevate().clock.advance(1000);

    await elevate().request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
      body: reference(user.id),
    });
    elevate().clock.advance(1000);
    await elevate().request('POST', `/v1.0/groups/${group.id}/owners/$ref`, {
      body: reference(user.id),
    });
    elevate().clock.advance(1000);
    await elevate().request('DELETE', `/v1.0/groups/${group.id}/members/${user.id}/$ref`);
    elevate().clock.advance(1000);
    await elevate().request('DELETE', `/v1.0/groups/${group.id}/owners/${user.id}/$ref`);

    const events = await auditEventsFor(elevate(), user.id);
    assert.deepEqual(
      events.map((e) => e.activity),
      [
        'Add user',
        'Add member to group',
        'Add owner to group',
        'Remove member from group',
        'Remove owner from group',
      ],
    );
    const targets = JSON.parse(events[1]!.targets) as { id: string; type: string }[];
    assert.deepEqual(
      targets.map((t) => [t.type, t.id]),
      [
        ['Group', group.id],
        ['User', user.id],
      ],
    );
  });

  it('refuses a member added twice with 400, keeping one membership', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('twice') });
    const user = await elevate().createUser({ name: uniqueTag('gina') });
    await elevate().request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
      body: reference(user.id),
    });

    await assertRefusedWithoutChange(
      elevate(),
      () =>
        elevate().request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
          body: reference(user.id),
        }),
      400,
      'BadRequest',
    );
    const members = await elevate().request('GET', `/v1.0/groups/${group.id}/members`);
    assert.deepEqual(ids(members), [user.id]);
  });

  it('refuses bad references and unknown principals, adding nobody', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('refs') });
    const other = await elevate().createGroup({ name: uniqueTag('nested') });
    const url = `/v1.0/groups/${group.id}/members/$ref`;

    for (const body of [
      { '@odata.id': 'not a reference' },
      { '@odata.id': 'http://x/v1.0/directoryObjects/123' },
      { '@odata.id': 42 },
      { '@odata.id': `http://x/v1.0/directoryObjects/${'a'.repeat(10_000)}` },
      { id: '0c0c0c0c-0000-4000-8000-000000000000' },
      {},
      reference(other.id),
    ]) {
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('POST', url, { body }),
        400,
        'BadRequest',
      );
    }

    await assertRefusedWithoutChange(
      elevate(),
      () =>
        elevate().request('POST', url, {
          body: reference('0c0c0c0c-0000-4000-8000-000000000001'),
        }),
      400,
      'SubjectNotFound',
    );
  });

  it('answers 404 for unknown groups and for removing someone who is not a member', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('nf') });
    const user = await elevate().createUser({ name: uniqueTag('hank') });
    const unknownGroup = '0d0d0d0d-0000-4000-8000-000000000000';

    assertGraphError(
      await elevate().request('GET', `/v1.0/groups/${unknownGroup}/members`),
      404,
      'ResourceNotFound',
    );
    await assertRefusedWithoutChange(
      elevate(),
      () =>
        elevate().request('POST', `/v1.0/groups/${unknownGroup}/members/$ref`, {
          body: reference(user.id),
        }),
      404,
      'ResourceNotFound',
    );
    for (const principal of [user.id, '0d0d0d0d-0000-4000-8000-000000000001', 'nobody']) {
      await assertRefusedWithoutChange(
        elevate(),
        () => elevate().request('DELETE', `/v1.0/groups/${group.id}/members/${principal}/$ref`),
        404,
        'ResourceNotFound',
      );
    }
    assertGraphError(
      await elevate().request('GET', `/v1.0/users/${unknownGroup}/transitiveMemberOf`),
      404,
      'ResourceNotFound',
    );
  });

  it('drops the memberships of a deleted user and of a deleted group', async () => {
    const group = await elevate().createGroup({ name: uniqueTag('gone') });
    const stays = await elevate().createUser({ name: uniqueTag('ivy') });
    const leaves = await elevate().createUser({ name: uniqueTag('jack') });
    for (const user of [stays, leaves]) {
      await elevate().request('POST', `/v1.0/groups/${group.id}/members/$ref`, {
        body: reference(user.id),
      });
    }

    await elevate().request('DELETE', `/v1.0/users/${leaves.id}`);
    const members = await elevate().request('GET', `/v1.0/groups/${group.id}/members`);
    assert.deepEqual(ids(members), [stays.id]);

    await elevate().request('DELETE', `/v1.0/groups/${group.id}`);
    const memberOf = await elevate().request('GET', `/v1.0/users/${stays.id}/transitiveMemberOf`);
    assert.deepEqual(memberOf.body.value, []);
  });
});
