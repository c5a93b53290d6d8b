import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Limits the heap as `elevate serve` does, then allocates many short-lived objects with some
// survivors (as serving requests does), and prints the young generation's size in MiB. With a
// database file in ELEVATE_HEAP_TEST_DB, it first commits a write to it, which starts the
// checkpoint thread.
const SCRIPT = `
  import v8 from 'node:v8';
  import { limitHeapGrowth } from './src/heap.ts';
  limitHeapGrowth();
  const file = process.env.ELEVATE_HEAP_TEST_DB;
  if (file) {
    const { openDatabase } = await import('./src/db/database.ts');
    const db = await openDatabase('sqlite:' + file);
    await db.kysely.transaction().execute((trx) =>
      trx.schema.createTable('written').addColumn('id', 'integer').execute(),
    );
    // Closing waits for the checkpoint the commit asked for, so the thread has started by then.
    await db.close();
  }
  let kept = [];
  for (let i = 0; i < 3_000_000; i += 1) {
    kept.push({ i });
    if (kept.length > 100_000) kept = [];
  }
  const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  console.log(young.space_size / 1048576);
`;

async function youngGenerationMiB(nodeOptions: string, databaseFile = ''): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', SCRIPT],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: nodeOptions, ELEVATE_HEAP_TEST_DB: databaseFile },
    },
  );
  return Number(stdout.trim());
}

describe('the heap of a serving process', () => {
  // V8 starts it at 1 MiB (tsx, loading first, grows it to 4) and would grow it to 32 MiB.
  it('keeps the young generation at the size it had when serving began', async () => {
    assert.ok((await youngGenerationMiB('')) <= 4);
  });

  it('keeps it so once the checkpoint thread has started', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-heap-'));
    try {
      assert.ok((await youngGenerationMiB('', path.join(dir, 'elevate.db'))) <= 4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves the operator's own sizing alone", async () => {
    assert.ok((await youngGenerationMiB('--max-semi-space-size=16')) > 4);
  });
});
