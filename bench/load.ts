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
  const latencies: number[] = [];
  const failures: string[] = [];
  let ok = 0;
  let failed = 0;

  let rssMax = (await server.usage()).rss;
  const sampler = setInterval(() => {
    void server.usage().then((usage) => {
      rssMax = Math.max(rssMax, usage.rss);
    });
  }, 250);
  const cpuBefore = (await server.usage()).cpuMicros;
  const started = performance.now();

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
              if (status !== expect && failures.length < 5) failures.push(`${status} ${body}`);
            },
          },
        ],
      },
      (error) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === expect) {
        ok += 1;
        latencies.push(responseTime);
      } else {
        failed += 1;
      }
    });
    instance.on('reqError', () => {
      failed += 1;
    });
  });

  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const after = await server.usage();
  rssMax = Math.max(rssMax, after.rss);

  return {
    title: options.title,
    connections: options.connections,
    overallRate: options.overallRate ?? null,
    seconds,
    ok,
    failed,
    throughput: ok / seconds,
    latency: summarize(latencies),
    serverCores: (after.cpuMicros - cpuBefore) / 1e6 / seconds,
    serverRssMax: rssMax,
    failures,
  };
}
