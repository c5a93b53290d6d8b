import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { newId } from '../../src/shared/ids.js';
import { ElevateProcess, freePort } from '../http/elevate-process.js';
import { MINUTE } from '../support/clock.js';
import { insertAssignments } from './support.js';

const PASSWORD = 'correct horse battery staple';

/** A migrated SQLite database with one assignment that ended a minute ago by the system clock. */
async function databaseWithAnEndedAssignment(file: string) {
  const db = await openDatabase(`sqlite:${file}`);
  try {
    await migrateToLatest(db);
    const groupId = newId();
    await db.kysely
      .insertInto('groups')
      .values({
        id: groupId,
        display_name: 'Ops',
        mail_nickname: 'ops',
        description: null,
        security_enabled: 1,
        mail_enabled: 0,
        is_assignable_to_role: 0,
        created_at: new Date(Date.now() - 10 * MINUTE).toISOString(),
      })
      .execute();
    const [id] = await insertAssignments(db, {
      count: 1,
      groupId,
      principalIds: [newId()],
      start: new Date(Date.now() - 10 * MINUTE),
      end: new Date(Date.now() - MINUTE),
    });
    return id ?? '';
  } finally {
    await db.close();
  }
}

async function statusOf(file: string, id: string) {
  const db = await openDatabase(`sqlite:${file}`);
  try {
    const row = await db.kysely
      .selectFrom('pim_schedules')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.status;
  } finally {
    await db.close();
  }
}

describe('the jobs in the elevate command', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-jobs-'));
  const running: ElevateProcess[] = [];
  after(() => {
    for (const child of running) child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('`elevate jobs run` does one pass on a fresh database and exits 0', async () => {
    const child = ElevateProcess.start(['jobs', 'run'], {
      ELEVATE_DATABASE_URL: `sqlite:${path.join(dir, 'fresh.db')}`,
      ELEVATE_ADMIN_PASSWORD: PASSWORD,
    });
    running.push(child);
    const exit = await child.exit(60_000);

    assert.equal(exit.code, 0, child.stderr);
    assert.match(
      child.stdout,
      /^Handled 0 due items \(started 0, expired 0, .*\) in \d+ batches, \d+ ms\.$/m,
    );
    assert.ok(fs.existsSync(path.join(dir, 'fresh.db')));
  });

  it('`elevate serve` runs the loop from the start, and stops it on SIGTERM', async () => {
    const file = path.join(dir, 'serve.db');
    const id = await databaseWithAnEndedAssignment(file);
    const port = await freePort();
    const child = ElevateProcess.start(['serve'], {
      ELEVATE_DATABASE_URL: `sqlite:${file}`,
      ELEVATE_PORT: String(port),
      ELEVATE_ADMIN_PASSWORD: PASSWORD,
    });
    running.push(child);
    await child.waitUntilHealthy(port);

    // The process works on its own schedule: wait for its first pass, within a deadline.
    const deadline = Date.now() + 30_000;
    while ((await statusOf(file, id)) !== 'Expired' && Date.now() < deadline) await delay(100);
    assert.equal(await statusOf(file, id), 'Expired');

    child.child.kill('SIGTERM');
    const { code, signal } = await child.exit(15_000);
    assert.equal(signal, null);
    assert.equal(code, 0, child.stderr);
  });
});
