import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Checkpointer } from '../../src/db/checkpointer.js';

/**
 * Rows the database file itself holds, without its WAL: a copy of the file alone opens as the
 * database stood at its last checkpoint.
 */
function rowsInDatabaseFile(dir: string, file: string): number {
  const copy = path.join(dir, `copy-${Math.random().toString(36).slice(2)}.db`);
  fs.copyFileSync(file, copy);
  const db = new SqliteDatabase(copy, { readonly: true });
  try {
    const row = db.prepare('select count(*) as n from items').get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

describe('the checkpointer', () => {
  let dir: string;
  let file: string;
  let writer: SqliteDatabase.Database;
  const insert = (count: number) => {
    const statement = writer.prepare('insert into items (body) values (?)');
    for (let i = 0; i < count; i++) statement.run('x'.repeat(200));
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-checkpoint-'));
    file = path.join(dir, 'elevate.db');
    writer = new SqliteDatabase(file);
    writer.pragma('journal_mode = WAL');
    // As the serving connection leaves them to the checkpointer; here it never checkpoints.
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('create table items (id integer primary key, body text not null)');
    writer.pragma('wal_checkpoint(TRUNCATE)');
  });

  after(() => {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('copies committed rows into the database file on its own thread', async () => {
    insert(500);
    assert.equal(rowsInDatabaseFile(dir, file), 0);

    const checkpointer = new Checkpointer(file);
    checkpointer.afterCommit();
    await checkpointer.settled();
    assert.equal(rowsInDatabaseFile(dir, file), 500);

    await checkpointer.close();
  });

  it('gathers commits made while a checkpoint runs into one more round', async () => {
    const checkpointer = new Checkpointer(file);
    insert(100);
    checkpointer.afterCommit();

    // Committed while the first round may still be running: the round after it copies them.
    insert(100);
    checkpointer.afterCommit();
    checkpointer.afterCommit();
    await checkpointer.settled();
    assert.equal(rowsInDatabaseFile(dir, file), 700);

    await checkpointer.close();
  });

  it('closes without a thread when nothing was ever committed', async () => {
    const checkpointer = new Checkpointer(file);
    await checkpointer.settled();
    await checkpointer.close();
    assert.equal(rowsInDatabaseFile(dir, file), 700);
  });
});
