import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { restoreHeapLimits } from '../heap.js';

/**
 * WAL frames the serving connection lets pile up before it checkpoints them itself: a backstop
 * for when the checkpointer falls behind or writes commit outside a group. 10 000 pages are
 * 40 MiB of WAL.
 */
export const BACKSTOP_PAGES = 10_000;

/**
 * Copies committed WAL frames back into the database file on a thread of its own.
 *
 * Left to itself, SQLite checkpoints inside the COMMIT that takes the WAL past 1 000 pages: it
 * copies those pages and syncs the database file, and since better-sqlite3 runs on the event
 * loop, every request waits meanwhile. Under a stream of activations that was a fifth of the
 * event loop's time, in stalls of up to 160 ms. Here the serving connection leaves checkpoints to
 * a second connection on a worker thread, which runs a PASSIVE checkpoint after commits: it never
 * waits for readers or writers, and what it cannot copy yet it copies on a later round.
 *
 * Commits that come while a checkpoint runs are gathered into one more round, so a busy server
 * costs the thread one checkpoint at a time. The thread starts with the first commit: a server
 * that only reads never starts it.
 */
export class Checkpointer {
  private worker: Worker | null = null;
  private running = false;
  private again = false;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;

  constructor(private readonly file: string) {}

  /** Called after each COMMIT of the serving connection. */
  afterCommit(): void {
    if (this.failure) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.run();
  }

  /** Resolves once no checkpoint is running or asked for. */
  settled(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;

    await this.settled();
    this.worker = null;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  private run(): void {
    this.running = true;
    this.again = false;
    const worker = this.start();
    // The process waits for a checkpoint under way, a few milliseconds, but not for an idle thread.
    worker.ref();
    worker.postMessage('checkpoint');
  }

  private start(): Worker {
    if (this.worker) return this.worker;

    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // Plain JavaScript: the thread needs none of the parent's flags or loaders.
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { driver, file: this.file },
    });
    worker.once('online', restoreHeapLimits);
    worker.on('message', () => this.done());
    worker.on('error', (error) => this.fail(error));
    this.worker = worker;
    return worker;
  }

  private done(): void {
    if (this.again) {
      this.run();
      return;
    }

    this.running = false;
    this.worker?.unref();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * A checkpointer that failed stops; the serving connection's own checkpoints at BACKSTOP_PAGES
   * keep the WAL bounded, as they would without it.
   */
  private fail(error: Error): void {
    this.failure = error;
    this.worker = null;
    this.again = false;
    this.done();
  }
}

// Plain JavaScript evaluated on the worker thread, so that it runs the same under tsx and from
// the build. It opens its own connection and answers each request once its checkpoint is done.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  db.pragma('wal_checkpoint(PASSIVE)');
  parentPort.postMessage('done');
});
`;
