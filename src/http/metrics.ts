import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Server } from './server.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metrics of one app instance, in a registry of its own so that two instances in one
 * process (as in tests) never add to each other's counts. Served at `GET /metrics` in
 * Prometheus' text format, without authentication, like `/healthz`: it reveals counts, timings
 * and route patterns, never an id, a name or anything a request carried.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'elevate_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'elevate_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Counts and times every request the server answers, and serves `GET /metrics`. */
  instrument(server: Server): void {
    server.addHook('onResponse', async (request, reply) => {
      // The pattern, not the path: ids in paths would make a new series for every object.
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      };
      this.requests.inc(labels);
      this.latency.observe(labels, reply.elapsedTime / 1000);
    });

    server.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const text = await this.registry.metrics();
      return reply.type(this.registry.contentType).send(text);
    });
  }

  /**
   * A gauge read when the metrics are scraped, such as the depth of a queue kept in the
   * database. A failed read leaves the last value, so that one slow query does not fail a scrape.
   */
  registerGauge(name: string, help: string, read: () => Promise<number> | number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        try {
          this.set(await read());
        } catch {
          // The previous value stands; the database's own errors are logged where they happen.
        }
      },
    });
  }
}
