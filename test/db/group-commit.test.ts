import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, sql } from 'kysely';
import { immediateSqliteDialect } from '../../src/db/sqlite-dialect.js';

interface Schema {
  notes: { id: number; body: string };
}

/**
 * The SQLite driver's group commit, watched from a second connection to the same file: a row that
 * connection can read is committed, so a transaction must never return before that is true.
 */
describe('SQLite group commit', () => {
  let dir: string;
  let kysely: Kysely<Schema>;
  let observer: SqliteDatabase.Database;
  const commits: number[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-group-commit-'));
    const file = path.join(dir, 'notes.db');
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    kysely = new Kysely<Schema>({
      dialect: immediateSqliteDialect(sqlite, { onCommit: (count) => commits.push(count) }),
    });
    await sql`create table notes (id integer primary key, body text not null)`.execute(kysely);
    observer = new SqliteDatabase(file, { readonly: true });
  });

  after(async () => {
    observer.close();
    await kysely.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const committed = (id: number) =>
    observer.prepare('select count(*) as n from notes where id = ?').get(id) as { n: number };

  const insertNote = (id: number) =>
    kysely.transaction().execute(async (trx) => {
      await trx
        .insertInto('notes')
        .values({ id, body: `note ${id}` })
        .execute();
      // Another statement after the write, so that transactions queue behind one another.
      await trx.selectFrom('notes').select('id').where('id', '=', id).execute();
      return id;
    });

  test('transactions that queue share COMMITs, and each returns only once durable', async () => {
    commits.length = 0;
    const ids = Array.from({ length: 30 }, (_, i) => 100 + i);

    const seen = await Promise.all(
      ids.map(async (id) => {
        await insertNote(id);
        return committed(id).n;
      }),
    );

    assert.deepEqual(
      seen,
      ids.map(() => 1),
      'every transaction was durable when it returned',
    );
    assert.equal(
      commits.reduce((a, b) => a + b, 0),
      ids.length,
      'every transaction was counted in exactly one COMMIT',
    );
    assert.ok(commits.length < ids.length / 2, `${commits.length} COMMITs for 30 transactions`);
  });

  test('a transaction that fails is undone alone; the others of its group commit', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => 200 + i);
    const failing = 205;

    const outcomes = await Promise.allSettled(
      ids.map((id) =>
        kysely.transaction().execute(async (trx) => {
          await trx
            .insertInto('notes')
            .values({ id, body: `note ${id}` })
            .execute();
          if (id === failing) throw new Error('the caller gave up');
          await trx.selectFrom('notes').select('id').where('id', '=', id).execute();
        }),
      ),
    );

    const rejected = ids.filter((_, i) => outcomes[i]?.status === 'rejected');
    assert.deepEqual(rejected, [failing]);
    assert.equal(committed(failing).n, 0, 'the failed transaction left nothing');
    for (const id of ids.filter((id) => id !== failing)) assert.equal(committed(id).n, 1);
  });

  test('a failed statement inside a transaction undoes only that transaction', async () => {
    await insertNote(300);

    const outcomes = await Promise.allSettled([
      insertNote(301),
      // The same key again: a constraint error, inside a group that goes on.
      kysely.transaction().execute(async (trx) => {
        await trx.insertInto('notes').values({ id: 302, body: 'kept?' }).execute();
        await trx.insertInto('notes').values({ id: 300, body: 'duplicate' }).execute();
      }),
      insertNote(303),
    ]);

    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(committed(302).n, 0);
    assert.equal(committed(301).n, 1);
    assert.equal(committed(303).n, 1);
  });

  test('a write outside a transaction commits the open group with itself', async () => {
    commits.length = 0;

    const grouped = insertNote(400);
    const plain = kysely
      .insertInto('notes')
      .values({ id: 401, body: 'outside any transaction' })
      .execute()
      .then(() => ({ grouped: committed(400).n, plain: committed(401).n }));
    const later = insertNote(402);

    assert.deepEqual(await plain, { grouped: 1, plain: 1 });
    await Promise.all([grouped, later]);
    assert.equal(committed(402).n, 1);
    assert.deepEqual(commits, [2, 1], 'one COMMIT for the first transaction and the write');
  });

  test('a write outside a transaction that fails leaves the open group to commit', async () => {
    const grouped = insertNote(410);
    const duplicate = kysely.insertInto('notes').values({ id: 410, body: 'again' }).execute();
    const later = insertNote(411);

    await assert.rejects(duplicate);
    assert.deepEqual(await Promise.all([grouped, later]), [410, 411]);
    assert.equal(committed(410).n, 1);
    assert.equal(committed(411).n, 1);
  });

  test('reads outside a transaction run between the transactions of a group', async () => {
    const [first, read, second] = await Promise.all([
      insertNote(500),
      kysely.selectFrom('notes').select('id').where('id', '=', 500).execute(),
      insertNote(501),
    ]);

    assert.equal(first, 500);
    assert.deepEqual(read, [{ id: 500 }]);
    assert.equal(second, 501);
    assert.equal(committed(501).n, 1);
  });

  test('a read compiled once, outside a transaction, leaves the group open', async () => {
    commits.length = 0;

    // Statements built once (db/prepared) reach the driver as raw SQL, SELECT or not.
    const [, read] = await Promise.all([
      insertNote(600),
      kysely.executeQuery(CompiledQuery.raw('select id from notes where id = ?', [600])),
      insertNote(601),
    ]);

    assert.deepEqual(read.rows, [{ id: 600 }]);
    assert.deepEqual(commits, [2], 'both transactions shared one COMMIT');
    assert.equal(committed(601).n, 1);
  });
});
