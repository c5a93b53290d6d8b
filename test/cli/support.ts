import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Credentials } from '../../src/cli/credentials.js';
import { databaseTargets } from '../support/databases.js';
import { TestElevate, type TestUser } from '../support/elevate.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `elevate` client command, for tests that talk to it while it runs. */
export interface CliProcess {
  write(text: string): void;
  end(text?: string): void;
  /** Resolves once stderr matches, or fails if the command ends first. */
  waitForStderr(pattern: RegExp): Promise<void>;
  result: Promise<CliResult>;
}

/** A user of the CLI: a private configuration folder, and the server to talk to. */
export class CliUser {
  readonly configDir: string;

  constructor(readonly server: string) {
    this.configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-cli-'));
  }

  get credentialsFile(): string {
    return path.join(this.configDir, 'credentials.json');
  }

  /** Starts `node --import tsx src/main.ts ...args` with this user's folder and server. */
  spawn(args: string[], env: Record<string, string> = {}): CliProcess {
    // The test runner's own ELEVATE_* settings must not leak into the child.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('ELEVATE_')),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: ROOT,
      env: {
        ...inherited,
        ELEVATE_CONFIG_DIR: this.configDir,
        ELEVATE_SERVER: this.server,
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });

    let stdout = '';
    let stderr = '';
    const watchers: { pattern: RegExp; resolve: () => void }[] = [];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const watcher of watchers.filter((w) => w.pattern.test(stderr))) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    });
    const result = new Promise<CliResult>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout, stderr })),
    );

    return {
      write: (text) => child.stdin.write(text),
      end: (text) => child.stdin.end(text),
      waitForStderr: (pattern) =>
        Promise.race([
          new Promise<void>((resolve) => {
            if (pattern.test(stderr)) resolve();
            else watchers.push({ pattern, resolve });
          }),
          result.then((r) => {
            throw new Error(`elevate ended before ${pattern}: ${JSON.stringify(r)}`);
          }),
        ]),
      result,
    };
  }

  /** Runs a command to its end, with `input` on its stdin. */
  run(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
    const child = this.spawn(args, options.env);
    child.end(options.input ?? '');
    return child.result;
  }

  /** Runs a command with --json and answers its parsed output; fails on any other exit. */
  async json(args: string[]): Promise<unknown> {
    const result = await this.run([...args, '--json']);
    if (result.code !== 0) throw new Error(`elevate ${args.join(' ')}: ${JSON.stringify(result)}`);
    return JSON.parse(result.stdout) as unknown;
  }

  /**
   * Stores a sign-in as `elevate login` would, with a token issued by the fake clock; for tests
   * whose subject is not signing in. `elevate login` itself is tested on its own.
   */
  async signInAs(elevate: TestElevate, user: TestUser, options: { mfa?: boolean } = {}) {
    const amr = options.mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'];
    const credentials: Credentials = {
      server: this.server,
      userId: user.id,
      userPrincipalName: user.upn,
      displayName: user.upn.split('@')[0] ?? user.upn,
      amr,
      accessToken: await elevate.tokenFor(user, options.mfa ?? false),
      expiresDateTime: new Date(Date.now() + 3600_000).toISOString(),
    };
    fs.mkdirSync(this.configDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
    return this;
  }

  remove(): void {
    fs.rmSync(this.configDir, { recursive: true, force: true });
  }
}

export interface CliContext {
  elevate: TestElevate;
  server: string;
  /** A new CLI user with its own configuration folder, removed after the suite. */
  cli(): CliUser;
}

/**
 * Runs `body` against an Elevate listening on a real port, as the CLI needs; its tests run
 * concurrently. Each CLI call is a child process that takes a second or more to start, so these
 * suites run on SQLite only: the API under them is tested on every database by its own suites,
 * and the CLI adds no SQL of its own.
 */
export function describeCli(title: string, body: (context: () => CliContext) => void): void {
  const sqlite = databaseTargets.filter((target) => target.name === 'sqlite');
  for (const target of sqlite) {
    describe(`${title} [${target.name}]`, { concurrency: true }, () => {
      let context: CliContext | undefined;
      const users: CliUser[] = [];
      before(async () => {
        const elevate = await TestElevate.start(target);
        await elevate.app.server.listen({ port: 0, host: '127.0.0.1' });
        const address = elevate.app.server.server.address() as AddressInfo;
        const server = `http://127.0.0.1:${address.port}`;
        context = {
          elevate,
          server,
          cli: () => {
            const user = new CliUser(server);
            users.push(user);
            return user;
          },
        };
      });
      after(async () => {
        for (const user of users) user.remove();
        await context?.elevate.close();
      });
      body(() => {
        if (!context) throw new Error('Elevate has not started');
        return context;
      });
    });
  }
}
