import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PUBLIC_URL, describeEachDatabase, type Json } from '../support/elevate.js';
import { assertGraphError, uniqueTag } from './helpers.js';

describeEachDatabase('directory lists with OData query options', (elevate) => {
  const list = (url: string) => elevate().request('GET', url);
  const names = (response: Json): string[] =>
    response.body.value.map((item: { displayName: string }) => item.displayName);
  const filter = (expression: string) => encodeURIComponent(expression);

  /** Users named `${tag} <name>`, created in the order given. */
  async function createUsers(tag: string, people: { name: string; mail?: string }[]) {
    const created: { id: string; upn: string }[] = [];
    for (const person of people) {
      const login = `${tag}.${person.name.toLowerCase()}`;
      const response = await elevate().request('POST', '/v1.0/users', {
        body: {
          displayName: `${tag} ${person.name}`,
          userPrincipalName: `${login}@elevate.local`,
          ...(person.mail ? { mail: person.mail } : {}),
        },
      });
      assert.equal(response.status, 201);
      created.push({ id: response.body.id, upn: response.body.userPrincipalName });
    }
    return created;
  }

  it('finds a group by its display name, as a client looks it up', async () => {
    const tag = uniqueTag('find');
    const wanted = await elevate().createGroup({ name: `Tier 3 Office Admins ${tag}` });
    await elevate().createGroup({ name: `Tier 3 Office Admins ${tag} Deputies` });

    const found = await list(
      `/v1.0/groups?$filter=displayName eq 'Tier 3 Office Admins ${tag}'`.replaceAll(' ', '%20'),
    );

    assert.equal(found.status, 200);
    assert.match(found.body['@odata.context'], /#groups$/);
    assert.deepEqual(
      found.body.value.map((g: { id: string }) => g.id),
      [wanted.id],
    );
    const otherCase = `displayName eq 'tier 3 office admins ${tag.toUpperCase()}'`;
    const anyCase = await list(`/v1.0/groups?$filter=${filter(otherCase)}`);
    assert.deepEqual(
      anyCase.body.value.map((g: { id: string }) => g.id),
      [wanted.id],
    );
  });

  it('filters users with eq per property and finds a user principal name in any case', async () => {
    const tag = uniqueTag('eq');
    const [ann, bob] = await createUsers(tag, [
      { name: 'Ann', mail: `ann.${tag}@example.com` },
      { name: 'Bob' },
    ]);
    await elevate().request('PATCH', `/v1.0/users/${bob!.id}`, {
      body: { accountEnabled: false },
    });
    const guest = await elevate().createUser({ name: `${tag}-guest`, userType: 'Guest' });
    const within = `startswith(displayName,'${tag}') or startswith(userPrincipalName,'${tag}')`;

    const cases: [string, string[]][] = [
      [`userPrincipalName eq '${ann!.upn.toUpperCase()}'`, [ann!.id]],
      [`mail eq 'ANN.${tag}@example.com'`, [ann!.id]],
      [`id eq '${bob!.id}'`, [bob!.id]],
      [`(${within}) and accountEnabled eq false`, [bob!.id]],
      [`(${within}) and userType eq 'guest'`, [guest.id]],
      [`(${within}) and userType eq 'Member' and accountEnabled eq true`, [ann!.id]],
    ];
    for (const [expression, expected] of cases) {
      const response = await list(`/v1.0/users?$filter=${filter(expression)}`);
      assert.equal(response.status, 200, expression);
      assert.deepEqual(
        response.body.value.map((u: { id: string }) => u.id),
        expected,
        expression,
      );
    }
  });

  it('filters with startswith, and, or, and orders by displayName', async () => {
    const tag = uniqueTag('sw');
    await createUsers(tag, [{ name: 'Carol' }, { name: 'Alice' }, { name: 'Bruno' }]);

    const bOrCarol = `startswith(displayName,'${tag} B') or displayName eq '${tag} Carol'`;
    const started = await list(`/v1.0/users?$filter=${filter(bOrCarol)}`);
    assert.deepEqual(names(started).sort(), [`${tag} Bruno`, `${tag} Carol`]);

    const upnStartsA =
      `startswith(displayName,'${tag}') and ` + `startswith(userPrincipalName,'${tag}.a')`;
    const both = await list(`/v1.0/users?$filter=${filter(upnStartsA)}`);
    assert.deepEqual(names(both), [`${tag} Alice`]);

    const tagged = `/v1.0/users?$filter=${filter(`startswith(displayName,'${tag}')`)}`;
    const ascending = await list(`${tagged}&$orderby=displayName`);
    assert.deepEqual(names(ascending), [`${tag} Alice`, `${tag} Bruno`, `${tag} Carol`]);
    const descending = await list(`${tagged}&$orderby=displayName%20desc`);
    assert.deepEqual(names(descending), [`${tag} Carol`, `${tag} Bruno`, `${tag} Alice`]);
  });

  it('filters by creation time and by a list of ids', async () => {
    const tag = uniqueTag('time');
    const [early] = await createUsers(tag, [{ name: 'Early' }]);
    elevate().clock.advance(60_000);
    const cutoff = elevate().clock.now().toISOString();
    const [late] = await createUsers(tag, [{ name: 'Late' }]);
    const within = `startswith(displayName,'${tag}')`;

    const after = await list(
      `/v1.0/users?$filter=${filter(`${within} and createdDateTime ge ${cutoff}`)}`,
    );
    assert.deepEqual(names(after), [`${tag} Late`]);
    const before = await list(
      `/v1.0/users?$filter=${filter(`${within} and createdDateTime lt ${cutoff}`)}`,
    );
    assert.deepEqual(names(before), [`${tag} Early`]);
    const listed = await list(
      `/v1.0/users?$filter=${filter(`id in ('${early!.id}', '${late!.id}')`)}&$orderby=displayName`,
    );
    assert.deepEqual(names(listed), [`${tag} Early`, `${tag} Late`]);
  });

  it('treats wildcard characters in startswith as plain text', async () => {
    const tag = uniqueTag('wc');
    await createUsers(tag, [{ name: 'Dora' }]);

    const wildcard = await list(`/v1.0/users?$filter=${filter(`startswith(displayName,'%')`)}`);
    assert.equal(wildcard.status, 200);
    assert.deepEqual(wildcard.body.value, []);
    const underscore = await list(
      `/v1.0/users?$filter=${filter(`startswith(displayName,'${tag.slice(0, -1)}_')`)}`,
    );
    assert.deepEqual(underscore.body.value, []);
  });

  it('keeps only the $select ed properties, and always the id', async () => {
    const tag = uniqueTag('sel');
    const [eve] = await createUsers(tag, [{ name: 'Eve' }]);

    const selected = await list(
      `/v1.0/users?$filter=${filter(`id eq '${eve!.id}'`)}&$select=displayName,mail`,
    );

    assert.equal(selected.status, 200);
    assert.deepEqual(selected.body.value, [{ id: eve!.id, displayName: `${tag} Eve`, mail: null }]);
    assert.match(selected.body['@odata.context'], /#users\(displayName,mail\)$/);

    const group = await elevate().createGroup({ name: `${tag} Group` });
    const groups = await list(
      `/v1.0/groups?$filter=${filter(`id eq '${group.id}'`)}&$select=isAssignableToRole`,
    );
    assert.deepEqual(groups.body.value, [{ id: group.id, isAssignableToRole: false }]);
  });

  it('pages with $top and @odata.nextLink to the end, counting with $count', async () => {
    const tag = uniqueTag('page');
    const people = ['Ada', 'Ben', 'Cid', 'Dan', 'Eli', 'Fay', 'Gus'].map((name) => ({ name }));
    await createUsers(tag, people);
    const expected = people.map((p) => `${tag} ${p.name}`);

    let url: string | undefined =
      `/v1.0/users?$filter=${filter(`startswith(displayName,'${tag}')`)}` +
      '&$top=3&$count=true&$orderby=displayName';
    const seen: string[] = [];
    const counts: number[] = [];
    let pages = 0;
    while (url) {
      const page = await list(url);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.value.length <= 3);
      seen.push(...names(page));
      counts.push(page.body['@odata.count']);
      pages += 1;
      const next: string | undefined = page.body['@odata.nextLink'];
      if (next) assert.ok(next.startsWith(`${PUBLIC_URL}/v1.0/users?`), next);
      url = next ? next.slice(PUBLIC_URL.length) : undefined;
      assert.ok(pages <= 5, 'paging ends');
    }

    assert.equal(pages, 3);
    assert.deepEqual(seen, expected);
    assert.deepEqual(counts, [7, 7, 7]);
  });

  it('pages groups alike, and counts without $top', async () => {
    const tag = uniqueTag('gp');
    for (const name of ['One', 'Two', 'Three']) {
      await elevate().createGroup({ name: `${tag} ${name}` });
    }
    await elevate().createGroup({ name: `${tag} Roles`, roleAssignable: true });
    const within = `startswith(displayName,'${tag}')`;

    const counted = await list(
      `/v1.0/groups?$filter=${filter(`${within} and isAssignableToRole eq false`)}&$count=true`,
    );
    assert.equal(counted.body['@odata.count'], 3);
    assert.equal(counted.body['@odata.nextLink'], undefined);

    const first = await list(`/v1.0/groups?$filter=${filter(within)}&$top=2&$orderby=displayName`);
    assert.deepEqual(names(first), [`${tag} One`, `${tag} Roles`]);
    const second = await list(first.body['@odata.nextLink'].slice(PUBLIC_URL.length));
    assert.deepEqual(names(second), [`${tag} Three`, `${tag} Two`]);
    assert.equal(second.body['@odata.nextLink'], undefined);

    const rolesByNickname =
      `mailNickname eq '${tag}roles' and ` + 'securityEnabled eq true and mailEnabled eq false';
    const nick = await list(`/v1.0/groups?$filter=${filter(rolesByNickname)}`);
    assert.deepEqual(names(nick), [`${tag} Roles`]);
  });

  it('answers 400 in Graph shape for query options it cannot honour', async () => {
    for (const url of [
      `/v1.0/users?$filter=${filter("passwordHash eq 'x'")}`,
      `/v1.0/users?$filter=${filter("displayName eq 'unterminated")}`,
      `/v1.0/users?$filter=${filter('accountEnabled eq 1')}`,
      `/v1.0/users?$filter=${filter("userType eq 'Owner'")}`,
      `/v1.0/users?$filter=${filter("id eq 'not-a-guid'")}`,
      `/v1.0/users?$filter=${filter("endswith(displayName,'x')")}`,
      '/v1.0/users?$select=passwordHash',
      '/v1.0/users?$top=0',
      '/v1.0/users?$top=1000',
      '/v1.0/users?$top=ten',
      '/v1.0/users?$count=yes',
      '/v1.0/users?$orderby=mail',
      '/v1.0/users?$expand=memberOf',
      '/v1.0/users?$skiptoken=forged',
      '/v1.0/users?$search=x',
      '/v1.0/users?$top=1&$top=2',
      `/v1.0/groups?$filter=${filter("description eq 'x'")}`,
      `/v1.0/groups?$filter=${filter('isAssignableToRole eq maybe')}`,
    ]) {
      assertGraphError(await list(url), 400, 'BadRequest');
    }
  });
});
