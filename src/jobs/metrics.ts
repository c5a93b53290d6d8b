import { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../http/metrics.js';
import type { Clock } from '../shared/clock.js';
import type { Backlog, JobKind, JobsObserver, JobsService } from './service.js';

/**
 * The jobs' metrics: passes run and how long they took, items done by kind, and, read from the
 * database at each scrape, how much due work waits and how late the oldest item is. A lag that
 * keeps growing means no instance is running the loop; access is not affected by it.
 */
export function instrumentJobs(metrics: Metrics, jobs: JobsService, clock: Clock): void {
  const registers = [metrics.registry];
  const runs = new Counter({
    name: 'elevate_jobs_runs_total',
    help: 'Passes of the jobs loop, by result.',
    labelNames: ['result'],
    registers,
  });
  const duration = new Histogram({
    name: 'elevate_jobs_run_duration_seconds',
    help: 'Time a pass of the jobs loop took.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers,
  });
  const items = new Counter({
    name: 'elevate_jobs_items_total',
    help: 'Side effects of time passing done by this instance, by kind.',
    labelNames: ['kind'],
    registers,
  });

  const observer: JobsObserver = {
    itemsProcessed(kind: JobKind, count: number) {
      if (count > 0) items.inc({ kind }, count);
    },
    passFinished(result, seconds) {
      runs.inc({ result });
      duration.observe(seconds);
    },
  };
  jobs.observe(observer);

  // Both gauges are read in one scrape; they share one reading of the backlog.
  let reading: Promise<Backlog> | null = null;
  const backlog = () => {
    reading ??= jobs.backlog().finally(() => (reading = null));
    return reading;
  };
  metrics.registerGauge(
    'elevate_jobs_due_backlog',
    'Items due now that no pass has handled yet.',
    async () => (await backlog()).count,
  );
  metrics.registerGauge(
    'elevate_jobs_oldest_due_lag_seconds',
    'How long the oldest unhandled due item has waited; 0 when none waits.',
    async () => {
      const { oldestDueAt } = await backlog();
      if (!oldestDueAt) return 0;
      return Math.max(0, (clock.now().getTime() - oldestDueAt.getTime()) / 1000);
    },
  );
}
