/**
 * The server under test, in a process of its own so that the load generator does not share its
 * event loop: Elevate built as `elevate serve` builds it (same logging, jobs loop and outbox
 * worker), listening on 127.0.0.1 on a free port. The parent talks to it over IPC: it learns the
 * port, asks for the resident memory and CPU time, and tells it to stop.
 *
 * Environment: BENCH_DATABASE_URL, BENCH_SCHEMA (PostgreSQL only), BENCH_PUBLIC_URL, and
 * BENCH_APP_DIR: a `tsc` build of src/ to run, as `npm start` does; unset, the sources via tsx.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as AppModule from '../src/app.js';
import type * as ConfigModule from '../src/config.js';
import type * as DatabaseModule from '../src/db/database.js';
import type * as HeapModule from '../src/heap.js';

export type ServerMessage =
  { type: 'listening'; port: number } | { type: 'usage'; rss: number; cpuMicros: number };
export type ParentMessage = { type: 'usage' } | { type: 'stop' };

const appDir = process.env.BENCH_APP_DIR || fileURLToPath(new URL('../src/', import.meta.url));
const load = async <T>(file: string) => (await import(path.join(appDir, file))) as T;
// As `elevate serve` does, before the rest loads.
(await load<typeof HeapModule>('heap.js')).limitHeapGrowth();
const { buildApp } = await load<typeof AppModule>('app.js');
const { loadConfig } = await load<typeof ConfigModule>('config.js');
const { openDatabase } = await load<typeof DatabaseModule>('db/database.js');

const url = process.env.BENCH_DATABASE_URL ?? '';
const schema = process.env.BENCH_SCHEMA || undefined;
const db = await openDatabase(url, schema ? { schema } : {});
const config = loadConfig({
  ...process.env,
  ELEVATE_DATABASE_URL: url,
  ELEVATE_HOST: '127.0.0.1',
  ELEVATE_PORT: '0',
  ELEVATE_PUBLIC_URL: process.env.BENCH_PUBLIC_URL,
});
const app = await buildApp(config, {
  db,
  logger: { level: process.env.ELEVATE_LOG_LEVEL ?? 'info' },
});
await app.server.listen({ port: 0, host: '127.0.0.1' });
app.jobs.start();
app.outbox.start();

const address = app.server.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
send({ type: 'listening', port });

process.on('message', (message: ParentMessage) => {
  if (message.type === 'usage') {
    const cpu = process.cpuUsage();
    send({ type: 'usage', rss: process.memoryUsage().rss, cpuMicros: cpu.user + cpu.system });
  }
  if (message.type === 'stop') {
    void app
      .close()
      .then(() => db.close())
      .finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

function send(message: ServerMessage): void {
  process.send?.(message);
}
