import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import type { JobsService, PassReport } from './service.js';

export interface LoopSettings {
  /**
   * The longest sleep. Other instances' writes wake only their own loop, so each loop looks at
   * the database again at least this often.
   */
  maxSleepMs: number;
  /** The pause when work is due but a pass could do none of it: another instance holds it. */
  busyRetryMs: number;
  /** The first pause after a failed pass; it doubles with each failure, up to `maxSleepMs`. */
  retryMs: number;
}

export const DEFAULT_LOOP_SETTINGS: LoopSettings = {
  maxSleepMs: 60_000,
  busyRetryMs: 1_000,
  retryMs: 1_000,
};

/** Waits, and can be cut short. The loop's only timer; tests give the loop their own. */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
  interrupt(): void;
}

/**
 * Runs the jobs in the server process: a pass whenever something is due, then a sleep until the
 * next due item, as the database says, never longer than `maxSleepMs`. A write that creates a
 * nearer item wakes it at once through `wake()`. Times come from the clock, so a clock that
 * jumps forward simply makes more items due and the next pass catches up.
 */
export class JobsLoop {
  private running = false;
  private woken = false;
  private finished: Promise<void> = Promise.resolve();
  private readonly workListeners: (() => void)[] = [];

  constructor(
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
    private readonly settings: LoopSettings = DEFAULT_LOOP_SETTINGS,
    private readonly sleeper: Sleeper = new TimerSleeper(),
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.finished = this.run();
  }

  /** Something changed: look again at what is due next, now rather than after the sleep. */
  wake(): void {
    if (!this.running) return;
    this.woken = true;
    this.sleeper.interrupt();
  }

  /** Calls `listener` after each pass that did something, such as one that wrote emails. */
  onWork(listener: () => void): void {
    this.workListeners.push(listener);
  }

  /** Stops after the batch in progress commits; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.sleeper.interrupt();
    await this.finished;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.woken = false;
      let delay: number;
      try {
        delay = await this.step();
        failures = 0;
      } catch (error) {
        failures += 1;
        delay = Math.min(this.settings.maxSleepMs, this.settings.retryMs * 2 ** (failures - 1));
        this.log.error({ err: error, failures, retryInMs: delay }, 'jobs pass failed');
      }

      if (!this.running) break;
      if (this.woken || delay <= 0) continue;
      await this.sleeper.sleep(delay);
    }
  }

  /** One look at the database, and a pass if anything is due; answers how long to sleep. */
  private async step(): Promise<number> {
    const wait = await this.untilDue();
    if (wait > 0) return wait;

    const report = await this.jobs.runPass({ shouldStop: () => !this.running });
    const handled = total(report);
    if (handled > 0) {
      this.log.info(
        { processed: report.processed, batches: report.batches, durationMs: report.durationMs },
        'jobs pass',
      );
      for (const listener of this.workListeners) listener();
    }
    if (handled > 0 || !report.completed) return 0;

    // A pass that did nothing while work is still due: another instance is doing it.
    const after = await this.untilDue();
    return after > 0 ? after : this.settings.busyRetryMs;
  }

  private async untilDue(): Promise<number> {
    const due = await this.jobs.nextDueAt();
    if (due === null) return this.settings.maxSleepMs;
    return Math.min(due.getTime() - this.now(), this.settings.maxSleepMs);
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}

export function total(report: PassReport): number {
  return Object.values(report.processed).reduce((sum, count) => sum + count, 0);
}

/** Sleeps on a timer that does not keep the process alive on its own. */
class TimerSleeper implements Sleeper {
  private timer: NodeJS.Timeout | null = null;
  private resolve: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => this.interrupt(), ms);
      this.timer.unref();
    });
  }

  interrupt(): void {
    if (this.timer) clearTimeout(this.timer);
    const resolve = this.resolve;
    this.timer = null;
    this.resolve = null;
    resolve?.();
  }
}
