import http from 'node:http';
import autocannon from 'autocannon';
import type { ServerProcess } from './processes.js';
import { summarize, type Summary } from './stats.js';

export interface NextRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  server: ServerProcess;
  title: string;
  connections: number;
  /** Seconds; or `amount` requests in all. */
  duration?: number;
  amount?: number;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  overallRate?: number;
  /** Builds each request, so that every one can carry another user's token and ids. */
  next: () => NextRequest;
  /** Expected status; any other counts as a failure. */
  expect?: number;
}

export interface LoadResult {
  title: string;
  connections: number;
  overallRate: number | null;
  seconds: number;
  /** Responses with the expected status. */
  ok: number;
  failed: number;
  /** Expected responses per second. */
  throughput: number;
  /** Milliseconds, from every expected response (not autocannon's whole-millisecond histogram). */
  latency: Summary;
  /** The server's CPU use during the run, in cores (1.0 = one core busy all the time). */
  serverCores: number;
  /** The server's largest resident memory seen during the run, in bytes. */
  serverRssMax: number;
  /** A few bodies of unexpected responses, to explain failures. */
  failures: string[];
}

/** Runs autocannon against the server process, sampling its memory every 250 ms meanwhile. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const { server, next } = options;
  const expect = options.expect ?? 200;
  const run = await Run.start(server);

  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.url,
        connections: options.connections,
        ...(options.duration !== undefined ? { duration: options.duration } : {}),
        ...(options.amount !== undefined ? { amount: options.amount } : {}),
        ...(options.overallRate !== undefined ? { overallRate: options.overallRate } : {}),
        timeout: 30,
        requests: [
          {
            setupRequest: (request: autocannon.Request) => {
              const built = next();
              return {
                ...request,
                method: built.method ?? 'GET',
                path: built.path,
                headers: {
                  ...built.headers,
                  ...(built.body ? { 'content-type': 'application/json' } : {}),
                },
                ...(built.body ? { body: built.body } : {}),
              };
            },
            onResponse: (status: number, body: string) => {
              if (status !== expect) run.explain(`${status} ${body}`);
            },
          },
        ],
      },
      (error) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === expect) run.answered(responseTime);
      else run.failed += 1;
    });
    instance.on('reqError', () => {
      run.failed += 1;
    });
  });

  return run.result(options.title, options.connections, options.overallRate ?? null);
}

/**
 * The tally of one run: the answers as expected and their latencies, the failures and a few of
 * their bodies, the server's memory sampled every 250 ms and its CPU time over the run.
 */
class Run {
  readonly latencies: number[] = [];
  readonly failures: string[] = [];
  ok = 0;
  failed = 0;

  private constructor(
    private readonly server: ServerProcess,
    private readonly cpuBefore: number,
    private rssMax: number,
    private readonly sampler: NodeJS.Timeout,
    private readonly started = performance.now(),
  ) {}

  static async start(server: ServerProcess): Promise<Run> {
    const { rss, cpuMicros } = await server.usage();
    const run: Run = new Run(
      server,
      cpuMicros,
      rss,
      setInterval(() => {
        void server.usage().then((usage) => {
          run.rssMax = Math.max(run.rssMax, usage.rss);
        });
      }, 250),
    );
    return run;
  }

  answered(latencyMs: number): void {
    this.ok += 1;
    this.latencies.push(latencyMs);
  }

  /** Keeps the first few failures' bodies, to explain them. */
  explain(failure: string): void {
    if (this.failures.length < 5) this.failures.push(failure);
  }

  async result(title: string, connections: number, rate: number | null): Promise<LoadResult> {
    const seconds = (performance.now() - this.started) / 1000;
    clearInterval(this.sampler);
    const after = await this.server.usage();
    return {
      title,
      connections,
      overallRate: rate,
      seconds,
      ok: this.ok,
      failed: this.failed,
      throughput: this.ok / seconds,
      latency: summarize(this.latencies),
      serverCores: (after.cpuMicros - this.cpuBefore) / 1e6 / seconds,
      serverRssMax: Math.max(this.rssMax, after.rss),
      failures: this.failures,
    };
  }
}

export interface PacedOptions {
  server: ServerProcess;
  title: string;
  /** Requests per second, sent at even intervals whether or not earlier ones were answered. */
  rate: number;
  seconds: number;
  next: () => NextRequest;
  expect?: number;
}

/**
 * Sends GET requests at an even pace, for latency at a given load. autocannon cannot do this: its
 * rate limit lets each connection send as fast as it can until the second's quota is used and
 * then pause, so a "paced" run is a burst at full load every second, and its latency is that of
 * full load. Here requests go out on schedule (open loop) over as many kept-alive sockets as are
 * needed, so none waits for an earlier answer and a stalled server cannot hide its stall by
 * slowing the sender. Each is timed from when it was sent: timers fire up to a millisecond late,
 * and that lateness belongs to this process, not to the server.
 */
export async function paced(options: PacedOptions): Promise<LoadResult> {
  const { server, next, rate } = options;
  const expect = options.expect ?? 200;
  const target = new URL(server.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const run = await Run.start(server);
  let inFlight = 0;

  const send = () => {
    const built = next();
    const sentAt = performance.now();
    inFlight += 1;
    const request = http.get(
      { agent, host: target.hostname, port: target.port, path: built.path, headers: built.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          inFlight -= 1;
          if (response.statusCode === expect) {
            run.answered(performance.now() - sentAt);
          } else {
            run.failed += 1;
            run.explain(`${response.statusCode} ${Buffer.concat(chunks).toString()}`);
          }
        });
      },
    );
    request.on('error', (error) => {
      inFlight -= 1;
      run.failed += 1;
      run.explain(error.message);
    });
  };

  const started = performance.now();
  const total = Math.round(rate * options.seconds);
  const interval = 1000 / rate;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && started + sent * interval <= now) {
        send();
        sent += 1;
      }
      if (sent < total) setTimeout(tick, Math.max(0, started + sent * interval - now));
      else resolve();
    };
    tick();
  });
  while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));

  agent.destroy();
  return run.result(options.title, 0, rate);
}
