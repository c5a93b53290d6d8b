import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import { JobsLoop, type LoopSettings, type Sleeper } from './loop.js';
import type { Backlog, JobsService, PassOptions, PassReport } from './service.js';

/**
 * The jobs as the app exposes them: `runPass()` for one full pass (what `elevate jobs run` and
 * the tests call), and the loop that `elevate serve` starts and that writes `wake()`.
 */
export class Jobs {
  private readonly loop: JobsLoop;

  constructor(
    readonly service: JobsService,
    clock: Clock,
    log: FastifyBaseLogger,
    settings?: LoopSettings,
    sleeper?: Sleeper,
  ) {
    this.loop = new JobsLoop(service, clock, log, settings, sleeper);
  }

  runPass(options?: PassOptions): Promise<PassReport> {
    return this.service.runPass(options);
  }

  nextDueAt(): Promise<Date | null> {
    return this.service.nextDueAt();
  }

  backlog(): Promise<Backlog> {
    return this.service.backlog();
  }

  get isRunning(): boolean {
    return this.loop.isRunning;
  }

  start(): void {
    this.loop.start();
  }

  /** After a write: `dueAt` lists the due times it made, if the writer knows them. */
  wake(dueAt?: readonly (Date | string | null)[]): void {
    this.loop.wake(dueAt);
  }

  /** Calls `listener` after each pass of the loop that did something. */
  onWork(listener: () => void): void {
    this.loop.onWork(listener);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
