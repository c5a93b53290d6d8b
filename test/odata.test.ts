import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import Fastify from 'fastify';
import { expressionBuilder, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { GraphError } from '../src/http/errors.js';
import {
  applySelect,
  collectionResponse,
  findEquality,
  listPage,
  nextLinkFor,
  parseODataQuery,
  type CollectionSpec,
} from '../src/http/odata.js';

interface TestDatabase {
  people: {
    id: string;
    display_name: string;
    mail: string | null;
    user_type: string;
    enabled: number;
    sign_ins: number;
    created_at: string;
    manager_id: string | null;
  };
  tags: { person_id: string; name: string };
}

const eb = expressionBuilder<TestDatabase, 'people'>();

const people: CollectionSpec = {
  fields: {
    id: { column: 'people.id', type: 'guid', operators: ['eq', 'ne'], sortable: true },
    displayName: {
      column: 'people.display_name',
      type: 'string',
      caseInsensitive: true,
      operators: ['eq', 'ne', 'startswith'],
      sortable: true,
    },
    mail: { column: 'people.mail', type: 'string', operators: ['eq', 'ne'], sortable: true },
    userType: { column: 'people.user_type', type: 'enum', enumValues: ['Member', 'Guest'] },
    accountEnabled: { column: 'people.enabled', type: 'boolean' },
    signInCount: {
      column: 'people.sign_ins',
      type: 'integer',
      operators: ['eq', 'gt', 'le'],
      sortable: true,
    },
    createdDateTime: {
      column: 'people.created_at',
      type: 'datetime',
      operators: ['eq', 'ge', 'lt'],
    },
    'manager/id': { column: 'people.manager_id', type: 'guid' },
  },
  lambdas: {
    tags: {
      fields: { name: { column: 'tags.name', type: 'string', operators: ['eq', 'startswith'] } },
      any: (condition) =>
        eb.exists(
          eb
            .selectFrom('tags')
            .select('tags.person_id')
            .whereRef('tags.person_id', '=', 'people.id')
            .where(condition),
        ),
    },
  },
  selectable: ['id', 'displayName', 'mail'],
  expandable: {
    manager: { selectable: ['id', 'displayName'] },
    policy: { expandable: { rules: { selectable: ['id'] } } },
  },
  defaultOrderBy: [
    { column: 'people.display_name', direction: 'asc' },
    { column: 'people.id', direction: 'asc' },
  ],
  maxTop: 50,
  defaultTop: 20,
};

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const PEOPLE: TestDatabase['people'][] = [
  person(1, 'Alice Adams', 'alice@example.com', 'Member', 1, 5, '2026-01-10T08:00:00.000Z'),
  person(2, 'bob Brown', null, 'Guest', 1, 0, '2026-02-01T00:00:00.000Z'),
  person(3, 'Carol Clark', 'carol@example.com', 'Member', 0, 12, '2026-02-15T12:30:00.000Z'),
  person(4, "Dara O'Brien", null, 'Guest', 1, 3, '2026-03-01T00:00:00.000Z'),
  person(5, '100% Real', 'real@example.com', 'Member', 1, 3, '2026-03-02T00:00:00.000Z'),
  person(6, '1000 Real', 'fake@example.com', 'Member', 1, 1, '2026-03-03T00:00:00.000Z'),
  person(7, 'Under_score', 'under@example.com', 'Member', 1, 2, '2026-03-04T00:00:00.000Z'),
  person(8, 'UnderXscore', 'x@example.com', 'Member', 0, 9, '2026-03-05T00:00:00.000Z'),
  person(9, 'Alice Adams', 'alice2@example.com', 'Guest', 1, 5, '2026-03-06T00:00:00.000Z'),
];
PEOPLE[2]!.manager_id = id(1);

const TAGS: TestDatabase['tags'][] = [
  { person_id: id(1), name: 'admin' },
  { person_id: id(1), name: 'finance' },
  { person_id: id(3), name: 'finance' },
  { person_id: id(7), name: '50%_off' },
];

function person(
  n: number,
  displayName: string,
  mail: string | null,
  userType: string,
  enabled: number,
  signIns: number,
  createdAt: string,
): TestDatabase['people'] {
  return {
    id: id(n),
    display_name: displayName,
    mail,
    user_type: userType,
    enabled,
    sign_ins: signIns,
    created_at: createdAt,
    manager_id: null,
  };
}

interface TestDialect {
  name: string;
  open(): Promise<{ db: Kysely<TestDatabase>; close(): Promise<void> }>;
}

const dialects: TestDialect[] = [
  {
    name: 'sqlite',
    open: () => {
      const database = new SqliteDatabase(':memory:');
      const db = new Kysely<TestDatabase>({ dialect: new SqliteDialect({ database }) });
      return Promise.resolve({ db, close: () => db.destroy() });
    },
  },
];

const postgresUrl = process.env.ELEVATE_TEST_DATABASE_URL;
if (postgresUrl) {
  dialects.push({
    name: 'postgres',
    open: async () => {
      // Each run works in a schema of its own, so that runs can share one database.
      const schema = `t_${randomBytes(8).toString('hex')}`;
      const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
      await admin.query(`create schema ${schema}`);

      const pool = new pg.Pool({
        connectionString: postgresUrl,
        options: `-c search_path=${schema}`,
      });
      const db = new Kysely<TestDatabase>({ dialect: new PostgresDialect({ pool }) });

      const close = async () => {
        await db.destroy();
        await admin.query(`drop schema ${schema} cascade`);
        await admin.end();
      };
      return { db, close };
    },
  });
}

async function createTables(db: Kysely<TestDatabase>): Promise<void> {
  await db.schema
    .createTable('people')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('mail', 'text')
    .addColumn('user_type', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('sign_ins', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('manager_id', 'text')
    .execute();
  await db.schema
    .createTable('tags')
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .execute();

  await db.insertInto('people').values(PEOPLE).execute();
  await db.insertInto('tags').values(TAGS).execute();
}

function rejects(query: Record<string, unknown>, message: RegExp): void {
  assert.throws(
    () => parseODataQuery(query, people),
    (error: unknown) => {
      assert.ok(error instanceof GraphError, 'a GraphError');
      assert.equal(error.status, 400);
      assert.match(error.message, message);
      return true;
    },
  );
}

for (const dialect of dialects) {
  describe(`OData queries on ${dialect.name}`, () => {
    let opened: Awaited<ReturnType<TestDialect['open']>>;
    let db: Kysely<TestDatabase>;

    before(async () => {
      opened = await dialect.open();
      db = opened.db;
      await createTables(db);
    });

    after(() => opened.close());

    const base = () => db.selectFrom('people').select(['people.id', 'people.display_name']);

    async function ids(query: Record<string, string>): Promise<string[]> {
      const page = await listPage(base(), parseODataQuery(query, people));
      return page.items.map((item) => item.id);
    }

    const allIds = () => PEOPLE.map((p) => p.id).sort();
    const idsWhere = (keep: (p: TestDatabase['people']) => boolean) =>
      PEOPLE.filter(keep)
        .map((p) => p.id)
        .sort();

    it('finds a person by displayName case-insensitively', async () => {
      const found = await ids({ $filter: "displayName eq 'ALICE adams'" });

      assert.deepEqual(found.sort(), [id(1), id(9)]);
    });

    it('reads a doubled quote inside a string literal', async () => {
      assert.deepEqual(await ids({ $filter: "displayName eq 'Dara O''Brien'" }), [id(4)]);
    });

    it('matches a missing value with eq null and keeps it for ne', async () => {
      const withoutMail = await ids({ $filter: 'mail eq null' });
      const notAlice = await ids({ $filter: "mail ne 'alice@example.com'" });
      const withMail = await ids({ $filter: 'mail ne null' });

      assert.deepEqual(withoutMail.sort(), [id(2), id(4)]);
      assert.deepEqual(
        notAlice.sort(),
        idsWhere((p) => p.id !== id(1)),
      );
      assert.equal(withMail.length, PEOPLE.length - 2);
    });

    it('keeps rows without a value under not, as OData does', async () => {
      const found = await ids({ $filter: "not (mail eq 'alice@example.com')" });

      assert.deepEqual(
        found.sort(),
        idsWhere((p) => p.id !== id(1)),
      );
    });

    it('compares booleans stored as integers', async () => {
      const disabled = await ids({ $filter: 'accountEnabled eq false' });

      assert.deepEqual(disabled.sort(), [id(3), id(8)]);
    });

    it('matches enum values in any case', async () => {
      const guests = await ids({ $filter: "userType eq 'GUEST'" });

      assert.deepEqual(guests.sort(), [id(2), id(4), id(9)]);
    });

    it('accepts a GUID quoted or unquoted, in any case', async () => {
      const quoted = await ids({ $filter: `id eq '${id(3).toUpperCase()}'` });
      const unquoted = await ids({ $filter: `id eq ${id(3)}` });

      assert.deepEqual(quoted, [id(3)]);
      assert.deepEqual(unquoted, [id(3)]);
    });

    it('follows a nested property path', async () => {
      assert.deepEqual(await ids({ $filter: `manager/id eq '${id(1)}'` }), [id(3)]);
    });

    it('compares dates, whatever offset the literal is written in', async () => {
      const february = await ids({
        $filter: 'createdDateTime ge 2026-02-01T00:00:00Z and createdDateTime lt 2026-03-01',
      });
      // 13:30 at +01:00 is 12:30 UTC, the exact creation time of Carol.
      const exact = await ids({ $filter: 'createdDateTime eq 2026-02-15T13:30:00+01:00' });

      assert.deepEqual(february.sort(), [id(2), id(3)]);
      assert.deepEqual(exact, [id(3)]);
    });

    it('compares integers', async () => {
      const frequent = await ids({ $filter: 'signInCount gt 5' });

      assert.deepEqual(frequent.sort(), [id(3), id(8)]);
    });

    it('combines and, or and not with parentheses', async () => {
      const found = await ids({
        $filter: "(userType eq 'guest' or signInCount gt 10) and not (accountEnabled eq false)",
      });

      assert.deepEqual(found.sort(), [id(2), id(4), id(9)]);
    });

    it('binds not tighter than and, and and tighter than or', async () => {
      const found = await ids({
        $filter: "not accountEnabled eq false and userType eq 'guest' or signInCount gt 10",
      });
      const notFirst = await ids({ $filter: `not (mail eq null) or id eq '${id(2)}'` });

      assert.deepEqual(found.sort(), [id(2), id(3), id(4), id(9)]);
      assert.deepEqual(
        notFirst.sort(),
        idsWhere((p) => p.id !== id(4)),
      );
    });

    it('matches any value of an in list', async () => {
      const found = await ids({ $filter: `id in ('${id(2)}', ${id(5)}, '${id(99)}')` });

      assert.deepEqual(found.sort(), [id(2), id(5)]);
    });

    it('escapes % and _ in startswith and ignores case', async () => {
      const percent = await ids({ $filter: "startswith(displayName,'100%')" });
      const underscore = await ids({ $filter: "startswith(displayName, 'under_')" });
      const lower = await ids({ $filter: "startswith(displayName,'alice')" });

      assert.deepEqual(percent, [id(5)]);
      assert.deepEqual(underscore, [id(7)]);
      assert.deepEqual(lower.sort(), [id(1), id(9)]);
    });

    it('filters through a collection with any', async () => {
      const finance = await ids({ $filter: "tags/any(t: t/name eq 'finance')" });
      const prefixed = await ids({ $filter: "tags/any(t: startswith(t/name, '50%_'))" });
      const tagged = await ids({ $filter: 'tags/any()' });
      const untagged = await ids({ $filter: "not tags/any(t: t/name eq 'finance')" });

      assert.deepEqual(finance.sort(), [id(1), id(3)]);
      assert.deepEqual(prefixed, [id(7)]);
      assert.deepEqual(tagged.sort(), [id(1), id(3), id(7)]);
      assert.equal(untagged.length, PEOPLE.length - 2);
    });

    it('pages with $top and a skiptoken until the last page', async () => {
      const seen: string[] = [];
      const pages: number[] = [];
      let url: string | null = '/v1.0/people?$top=4&other=kept';

      while (url !== null) {
        const request: URL = new URL(url, 'http://localhost');
        const query = parseODataQuery(Object.fromEntries(request.searchParams), people);
        const page = await listPage(base(), query);

        seen.push(...page.items.map((item) => item.id));
        pages.push(page.items.length);
        assert.equal(request.searchParams.get('other'), 'kept');
        url = page.nextSkip === null ? null : nextLinkFor(url, 'http://localhost', page.nextSkip);
      }

      // Names ignore case and equal names fall back to the id, so the order is the same
      // on every page and in both dialects.
      const expected = [...PEOPLE]
        .sort(
          (a, b) =>
            compareText(a.display_name.toLowerCase(), b.display_name.toLowerCase()) ||
            compareText(a.id, b.id),
        )
        .map((p) => p.id);
      assert.deepEqual(pages, [4, 4, 1]);
      assert.deepEqual(seen, expected);
    });

    it('counts all matches with $count=true', async () => {
      const enabled = PEOPLE.filter((p) => p.enabled === 1).length;
      const filter = 'accountEnabled eq true';

      const first = await listPage(
        base(),
        parseODataQuery({ $filter: filter, $top: '2', $count: 'true' }, people),
      );
      const beyond = await listPage(
        base(),
        parseODataQuery({ $filter: filter, $skip: '50', $count: 'true' }, people),
      );
      const uncounted = await listPage(base(), parseODataQuery({ $filter: filter }, people));

      assert.equal(first.items.length, 2);
      assert.equal(first.count, enabled);
      assert.equal(first.nextSkip, 2);
      assert.deepEqual(beyond.items, []);
      assert.equal(beyond.count, enabled);
      assert.equal(uncounted.count, null);
    });

    it('orders by $orderby and breaks ties with the unique column', async () => {
      const found = await ids({ $orderby: 'signInCount desc', $filter: 'signInCount le 5' });

      assert.deepEqual(found, [id(1), id(9), id(4), id(5), id(7), id(6), id(2)]);
    });

    it('orders missing values first ascending and last descending', async () => {
      const ascending = await ids({ $orderby: 'mail' });
      const descending = await ids({ $orderby: 'mail desc' });

      assert.deepEqual(ascending.slice(0, 2), [id(2), id(4)]);
      assert.deepEqual(descending.slice(-2), [id(2), id(4)]);
    });

    it('answers a Graph list page through a Fastify route', async () => {
      const app = Fastify();
      app.get('/v1.0/people', async (request) => {
        const query = parseODataQuery(request.query, people);
        const page = await listPage(base(), query);
        const value = page.items.map((item) =>
          applySelect(
            { id: item.id, displayName: item.display_name, mail: 'hidden' },
            query.select,
          ),
        );
        return collectionResponse(value, {
          context: 'http://localhost/v1.0/$metadata#people',
          count: page.count,
          nextLink: nextLinkFor(request.originalUrl, 'http://localhost', page.nextSkip),
        });
      });

      const filter = encodeURIComponent("startswith(displayName,'alice')");
      const response = await app.inject({
        url: `/v1.0/people?$filter=${filter}&$select=displayName&$top=1&$count=true`,
      });
      await app.close();

      const body = response.json<Record<string, unknown>>();
      const next = new URL(String(body['@odata.nextLink']));
      assert.equal(response.statusCode, 200);
      assert.equal(body['@odata.count'], 2);
      assert.deepEqual(body.value, [{ id: id(1), displayName: 'Alice Adams' }]);
      assert.equal(next.searchParams.get('$filter'), "startswith(displayName,'alice')");
      assert.equal(parseODataQuery(Object.fromEntries(next.searchParams), people).skip, 1);
    });

    it('lists everyone without options, in the default order', async () => {
      const page = await listPage(base(), parseODataQuery({}, people));

      assert.deepEqual(page.items.map((item) => item.id).sort(), allIds());
      assert.equal(page.items[0]?.display_name, '100% Real');
      assert.equal(page.nextSkip, null);
    });
  });
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

describe('parseODataQuery', () => {
  it('rejects a filter on a property that is not allowed', () => {
    rejects(
      { $filter: "foo eq 'x'" },
      /^\$filter: property 'foo' is not supported; filterable properties are: id, displayName/,
    );
    rejects({ $filter: "tags/any(t: t/color eq 'red')" }, /properties of tags are: name/);
    rejects({ $filter: "constructor eq 'x'" }, /property 'constructor' is not supported/);
  });

  it('rejects an operator the property does not allow', () => {
    rejects({ $filter: "displayName gt 'a'" }, /operator 'gt' is not supported on 'displayName'/);
    rejects({ $filter: "startswith(mail, 'a')" }, /operator 'startswith' .* on 'mail'/);
    rejects({ $filter: "contains(displayName, 'a')" }, /function 'contains' is not supported/);
    rejects({ $filter: "tags/all(t: t/name eq 'a')" }, /supports any\(\.\.\.\), not all/);
  });

  it('rejects a literal of the wrong type', () => {
    rejects({ $filter: "accountEnabled eq 'yes'" }, /'accountEnabled' takes true or false/);
    rejects({ $filter: "id eq 'not-a-guid'" }, /'id' takes a GUID/);
    rejects({ $filter: "userType eq 'robot'" }, /'userType' takes one of Member, Guest/);
    rejects({ $filter: 'signInCount gt 1.5' }, /'signInCount' takes an integer/);
    rejects({ $filter: "createdDateTime ge 'yesterday'" }, /takes a date and time/);
    rejects({ $filter: 'signInCount gt null' }, /null can only be compared with eq or ne/);
  });

  it('rejects unparsable syntax and says where', () => {
    rejects({ $filter: "displayName eq 'a' and" }, /cannot parse .* at character 19/);
    rejects({ $filter: "displayName eq 'a" }, /a string is not closed/);
    rejects({ $filter: "(displayName eq 'a'" }, /a '\(' is not closed/);
    rejects({ $filter: "'a' eq displayName" }, /write the property first and a literal second/);
    rejects({ $filter: 'accountEnabled' }, /is not a condition/);
  });

  it('refuses deep nesting and long filters before parsing them', () => {
    rejects({ $filter: `${'('.repeat(500)}id eq null${')'.repeat(500)}` }, /nests deeper/);
    rejects({ $filter: `displayName eq '${'a'.repeat(5000)}'` }, /longer than 4000/);
    const values = Array.from({ length: 300 }, (_, n) => String(n)).join(',');
    rejects({ $filter: `signInCount in (${values})` }, /'in' lists are too long/);
  });

  it('quotes at most 100 characters of the input in a message', () => {
    const name = 'x'.repeat(1000);

    assert.throws(
      () => parseODataQuery({ $filter: `${name} eq 1` }, people),
      (error: Error) =>
        error.message.length < 400 && error.message.includes(`'${'x'.repeat(100)}...'`),
    );
  });

  it('accepts options without $ and in any case, and leaves other parameters to the route', () => {
    const query = parseODataQuery(
      { filter: "displayName eq 'a'", $TOP: '3', Count: 'true', groupId: 'x', search: 'y' },
      people,
    );

    assert.equal(query.filter?.kind, 'compare');
    assert.equal(query.top, 3);
    assert.equal(query.count, true);
  });

  it('rejects an unknown $ option and names the supported ones', () => {
    rejects({ $search: 'alice' }, /'\$search' is not supported; supported are: \$filter, \$select/);
    rejects({ $filter: 'id eq null', filter: 'id eq null' }, /\$filter is given more than once/);
    rejects({ $top: ['1', '2'] }, /\$top is given more than once/);
  });

  it('bounds $top and uses the default page size without it', () => {
    assert.equal(parseODataQuery({}, people).top, 20);
    assert.equal(parseODataQuery({ $top: '50' }, people).top, 50);
    rejects({ $top: '51' }, /\$top must be an integer from 1 to 50/);
    rejects({ $top: '0' }, /\$top must be/);
    rejects({ $top: '-1' }, /\$top must be/);
    rejects({ $top: 'ten' }, /\$top must be/);
    rejects({ $count: 'yes' }, /\$count must be true or false/);
  });

  it('reads its own skiptoken and rejects a tampered one', () => {
    const link = nextLinkFor('/v1.0/people', 'http://localhost', 40);
    const token = new URL(link).searchParams.get('$skiptoken') ?? '';

    assert.equal(parseODataQuery({ $skiptoken: token }, people).skip, 40);
    rejects({ $skiptoken: `${token}x` }, /\$skiptoken is not valid/);
    rejects({ $skiptoken: 'abc' }, /\$skiptoken is not valid/);
    rejects({ $skiptoken: Buffer.from('{"offset":-1}').toString('base64url') }, /not valid/);
    rejects({ $skiptoken: token, $skip: '1' }, /either \$skip or \$skiptoken/);
  });

  it('orders by the default order, or by $orderby ending with the unique column', () => {
    assert.deepEqual(parseODataQuery({}, people).orderBy, [
      { column: 'people.display_name', direction: 'asc', ignoreCase: true },
      { column: 'people.id', direction: 'asc', ignoreCase: false },
    ]);
    assert.deepEqual(parseODataQuery({ $orderby: 'signInCount desc' }, people).orderBy, [
      { column: 'people.sign_ins', direction: 'desc', ignoreCase: false },
      { column: 'people.id', direction: 'asc', ignoreCase: false },
    ]);
    assert.deepEqual(parseODataQuery({ $orderby: 'id desc' }, people).orderBy, [
      { column: 'people.id', direction: 'desc', ignoreCase: false },
    ]);
    rejects({ $orderby: 'userType' }, /'userType' is not sortable; sortable properties are: id/);
  });

  it('checks $select against the selectable properties', () => {
    assert.deepEqual(parseODataQuery({ $select: 'id,displayName,id' }, people).select, [
      'id',
      'displayName',
    ]);
    assert.equal(parseODataQuery({ $select: '*' }, people).select, null);
    rejects({ $select: 'password' }, /\$select: property 'password' is not supported/);
    rejects({ $select: 'id&$top=3' }, /\$select: cannot parse/);
  });

  it('parses nested $expand options', () => {
    const query = parseODataQuery(
      { $expand: 'manager($select=id,displayName),policy($expand=rules($select=id))' },
      people,
    );

    assert.deepEqual(query.expand, [
      { name: 'manager', select: ['id', 'displayName'], expand: [] },
      {
        name: 'policy',
        select: null,
        expand: [{ name: 'rules', select: ['id'], expand: [] }],
      },
    ]);
  });

  it('rejects an $expand the collection does not offer, at any depth', () => {
    rejects({ $expand: 'owner' }, /property 'owner' cannot be expanded; .* manager, policy/);
    rejects({ $expand: 'manager($expand=policy)' }, /inside the expansion of manager/);
    rejects({ $expand: 'policy($expand=rules($select=name))' }, /expansion of policy\/rules/);
    rejects({ $expand: 'manager($top=1)' }, /only \$select and \$expand are supported/);
    rejects({ $expand: '*' }, /name the properties to expand/);
  });

  it('finds the value a filter requires of a property', () => {
    const filter = parseODataQuery(
      { $filter: `accountEnabled eq true and id eq '${id(7)}'` },
      people,
    ).filter;
    const either = parseODataQuery({ $filter: `id eq '${id(7)}' or id eq null` }, people).filter;
    const missing = parseODataQuery({ $filter: `mail eq null and id eq '${id(7)}'` }, people);
    const negated = parseODataQuery({ $filter: `not mail eq null and id eq '${id(7)}'` }, people);

    assert.equal(findEquality(filter, 'id'), id(7));
    assert.equal(findEquality(filter, 'accountEnabled'), 1);
    assert.equal(findEquality(either, 'id'), undefined);
    assert.equal(findEquality(null, 'id'), undefined);
    assert.equal(findEquality(missing.filter, 'mail'), null);
    assert.equal(findEquality(negated.filter, 'id'), id(7));
  });
});

describe('collection responses', () => {
  it('links the next page with the other parameters kept and paging replaced', () => {
    const link = nextLinkFor(
      '/v1.0/people?$filter=displayName%20eq%20%27a%27&$skip=5&$skiptoken=old&$top=2',
      'https://elevate.example/',
      7,
    );
    const url = new URL(link);

    assert.equal(url.origin + url.pathname, 'https://elevate.example/v1.0/people');
    assert.equal(url.searchParams.get('$filter'), "displayName eq 'a'");
    assert.equal(url.searchParams.get('$top'), '2');
    assert.equal(url.searchParams.get('$skip'), null);
    assert.equal(url.searchParams.getAll('$skiptoken').length, 1);
    assert.equal(parseODataQuery(Object.fromEntries(url.searchParams), people).skip, 7);
    assert.equal(nextLinkFor('/v1.0/people', 'https://elevate.example', null), null);
  });

  it('writes Graph collection bodies', () => {
    const context = 'https://elevate.example/v1.0/$metadata#people';

    assert.deepEqual(collectionResponse([{ id: 'a' }], { context, count: 3, nextLink: 'n' }), {
      '@odata.context': context,
      '@odata.count': 3,
      '@odata.nextLink': 'n',
      value: [{ id: 'a' }],
    });
    assert.deepEqual(collectionResponse([], { context, count: null, nextLink: null }), {
      '@odata.context': context,
      value: [],
    });
  });

  it('keeps the selected properties, id, @odata.type and expansions', () => {
    const item = {
      '@odata.type': '#microsoft.graph.user',
      id: 'a',
      displayName: 'A',
      mail: 'a@example.com',
      manager: { id: 'b' },
    };

    assert.deepEqual(
      applySelect(item, ['displayName'], [{ name: 'manager', select: null, expand: [] }]),
      { '@odata.type': '#microsoft.graph.user', id: 'a', displayName: 'A', manager: { id: 'b' } },
    );
    assert.equal(applySelect(item, null), item);
  });
});
