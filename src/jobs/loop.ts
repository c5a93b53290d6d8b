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
  /**
   * The shortest time between two looks at the database prompted by writes that did not say
   * what they made due: many such writes in a burst cost one look, made this long after the
   * previous one at most, which is also the most they add to the lag of their side effects.
   */
  lookAgainMs: number;
}

export const DEFAULT_LOOP_SETTINGS: LoopSettings = {
  maxSleepMs: 60_000,
  busyRetryMs: 1_000,
  retryMs: 1_000,
  lookAgainMs: 1_000,
};

/** Waits, and can be cut short. The loop's only timer; tests give the loop their own. */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
  interrupt(): void;
}

/**
 * Runs the jobs in the server process: a pass whenever something is due, then a sleep until the
 * next due item, never longer than `maxSleepMs`. It keeps the next due time in memory, learnt
 * from the database after each pass and at least every `maxSleepMs`, and from the writes of its
 * own instance through `wake()`. A write that says which due times it made moves the wake-up
 * with no query; one that does not makes the loop look again, at most once per `lookAgainMs`.
 * Times come from the clock, so a clock that jumps forward simply makes more items due and the
 * next pass catches up.
 */
export class JobsLoop {
  private running = false;
  private woken = false;
  private finished: Promise<void> = Promise.resolve();
  private readonly workListeners: (() => void)[] = [];
  /**
   * What the loop knows of the database: when it last looked; the earliest due time it found
   * then or was told of since (Infinity for none); the earliest told since the look began; and
   * whether a write since then did not tell. Knowing too early a time is harmless (a pass finds
   * nothing to do, and looks again); only the writes of other instances can be missed, and the
   * look every `maxSleepMs` finds those.
   */
  private lookedAt: number | null = null;
  private nextDue = Infinity;
  private toldDue = Infinity;
  private untoldWrite = false;

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
    this.lookedAt = null;
    this.finished = this.run();
  }

  /**
   * Something was written that may have made an item due soon. `dueAt` lists the due times the
   * write made (a schedule's start and end, a stage's deadline); without it the loop looks at
   * the database again, after at most `lookAgainMs`.
   */
  wake(dueAt?: readonly (Date | string | null)[]): void {
    if (!this.running) return;
    if (dueAt === undefined) {
      this.untoldWrite = true;
    } else {
      const earliest = Math.min(...dueAt.map(toMs));
      this.toldDue = Math.min(this.toldDue, earliest);
      if (!(earliest < this.nextDue)) return;
      this.nextDue = earliest;
    }
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
        // After a failure nothing in memory is trusted: the next step looks again.
        this.lookedAt = null;
        this.log.error({ err: error, failures, retryInMs: delay }, 'jobs pass failed');
      }

      if (!this.running) break;
      if (this.woken || delay <= 0) continue;
      await this.sleeper.sleep(delay);
    }
  }

  /** A look at the database if one is needed, and a pass if anything is due; answers the sleep. */
  private async step(): Promise<number> {
    if (this.mustLook()) await this.look();
    if (this.untilDue() > 0) return this.sleepLength();

    const report = await this.jobs.runPass({ shouldStop: () => !this.running });
    const handled = total(report);
    if (handled > 0) {
      this.log.info(
        { processed: report.processed, batches: report.batches, durationMs: report.durationMs },
        'jobs pass',
      );
      for (const listener of this.workListeners) listener();
    }
    await this.look();
    if (handled > 0 || !report.completed) return 0;

    // A pass that did nothing while work is still due: another instance is doing it.
    return this.untilDue() > 0 ? this.sleepLength() : this.settings.busyRetryMs;
  }

  private mustLook(): boolean {
    if (this.lookedAt === null) return true;
    const since = this.now() - this.lookedAt;
    // A clock set back makes what the loop knows as old as the jump: it looks again.
    if (since < 0 || since >= this.settings.maxSleepMs) return true;
    return this.untoldWrite && since >= this.settings.lookAgainMs;
  }

  private async look(): Promise<void> {
    const lookedAt = this.now();
    // A write that commits while the query runs may be missing from its answer, so what it
    // tells (or that it did not tell) is kept for after the look.
    this.untoldWrite = false;
    this.toldDue = Infinity;
    const due = await this.jobs.nextDueAt();
    this.lookedAt = lookedAt;
    this.nextDue = Math.min(due?.getTime() ?? Infinity, this.toldDue);
  }

  private untilDue(): number {
    return this.nextDue - this.now();
  }

  /** Until the next due item, the next periodic look, or the look an untold write asked for. */
  private sleepLength(): number {
    const lookedAt = this.lookedAt ?? this.now();
    const nextLook =
      lookedAt + (this.untoldWrite ? this.settings.lookAgainMs : this.settings.maxSleepMs);
    return Math.max(1, Math.min(this.nextDue, nextLook) - this.now());
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}

function toMs(at: Date | string | null): number {
  if (at === null) return Infinity;
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  return Number.isNaN(ms) ? Infinity : ms;
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
