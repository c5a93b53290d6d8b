import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParentMessage, ServerMessage } from './server.js';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
/** tsx by absolute location, so that a child whose working folder is elsewhere still finds it. */
export const TSX = import.meta.resolve('tsx');

/** The server under test in its own process, as `bench/server.ts` runs it. */
export class ServerProcess {
  private waiting: ((message: ServerMessage) => void)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'usage') this.waiting.shift()?.(message);
    });
  }

  /**
   * `nodeOptions` go before the script, for `--cpu-prof` and its kin. `script` is
   * `bench/server.ts`, run through tsx, or a JavaScript build of it, run by plain node as
   * production runs: tsx alone holds some 45 MiB, which would count as the server's memory.
   */
  static async start(
    env: Record<string, string>,
    cwd: string,
    nodeOptions: string[] = [],
    script = path.join(REPO, 'bench', 'server.ts'),
  ): Promise<ServerProcess> {
    const loader = script.endsWith('.ts') ? ['--import', TSX] : [];
    const child = spawn(process.execPath, [...nodeOptions, ...loader, script], {
      cwd,
      env: { ...process.env, ...env },
      // The server's request log goes where a production log would, but nobody reads it here.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
      child.on('message', (message: ServerMessage) => {
        if (message.type === 'listening') resolve(message.port);
      });
    });
    child.removeAllListeners('exit');
    return new ServerProcess(child, port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The server's resident memory in bytes and its CPU time so far in microseconds. */
  usage(): Promise<{ rss: number; cpuMicros: number }> {
    return new Promise((resolve) => {
      this.waiting.push((message) => {
        if (message.type === 'usage') resolve({ rss: message.rss, cpuMicros: message.cpuMicros });
      });
      this.send({ type: 'usage' });
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  private send(message: ParentMessage): void {
    this.child.send(message);
  }
}

/** A port that was free a moment ago, for a child that must be told its port in advance. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface StartupTiming {
  /** From spawning the process to the first 200 from `/healthz`. */
  ms: number;
  command: string;
}

/**
 * Spawns `elevate serve` on an existing database and times it until `/healthz` answers 200,
 * then stops it with SIGTERM, as a supervisor would.
 */
export async function timeStartup(
  command: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<StartupTiming> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, command, {
    cwd,
    env: { ...process.env, ...env, ELEVATE_PORT: String(port), ELEVATE_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  try {
    for (;;) {
      if (exited) throw new Error(`elevate serve exited before answering: ${command.join(' ')}`);
      if (performance.now() - started > 60_000) throw new Error('elevate serve took over 60 s');
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ok) return { ms: performance.now() - started, command: command.join(' ') };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
  }
}
