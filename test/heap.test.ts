import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Limits the heap as `elevate serve` does, then allocates many short-lived objects with some
// survivors (as serving requests does), and prints the young generation's size in MiB.
const SCRIPT = `
  import v8 from 'node:v8';
  import { limitHeapGrowth } from './src/heap.ts';
  limitHeapGrowth();
  let kept = [];
  for (let i = 0; i < 3_000_000; i += 1) {
    kept.push({ i });
    if (kept.length > 100_000) kept = [];
  }
  const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  console.log(young.space_size / 1048576);
`;

async function youngGenerationMiB(nodeOptions: string): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', SCRIPT],
    { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: nodeOptions } },
  );
  return Number(stdout.trim());
}

describe('the heap of a serving process', () => {
  // V8 starts it at 1 MiB (tsx, loading first, grows it to 4) and would grow it to 32 MiB.
  it('keeps the young generation at the size it had when serving began', async () => {
    assert.ok((await youngGenerationMiB('')) <= 4);
  });

  it("leaves the operator's own sizing alone", async () => {
    assert.ok((await youngGenerationMiB('--max-semi-space-size=16')) > 4);
  });
});
