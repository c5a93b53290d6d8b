import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { seedDemo, type DemoOrganisation } from '../../src/demo/seed.js';
import { FakeClock } from '../support/clock.js';
import type { DatabaseTarget, TestDatabase } from '../support/databases.js';

const PORTAL_SOURCE = path.resolve(import.meta.dirname, '../../portal');
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');
const CHROMIUM = process.env.ELEVATE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Builds the portal from its sources into a fresh folder, so that the browser tests always run
 * the code as it is now, never a stale `dist/portal`.
 */
export async function buildPortal(): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-portal-'));
  await build({
    root: PORTAL_SOURCE,
    configFile: false,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

/**
 * Debian's Chromium, headless, with nothing that reaches out to the network on its own.
 * Playwright gives each launch a fresh, temporary profile of its own.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: install it with apt-get install chromium.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A free TCP port on the loopback interface, to listen on and to name in the public URL. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Elevate listening on loopback with the demo organisation, its clock in the test's hands. */
export interface RunningPortal {
  app: App;
  clock: FakeClock;
  config: Config;
  url: string;
  demo: DemoOrganisation;
  password(user: string): string;
  close(): Promise<void>;
}

export async function startPortal(target: DatabaseTarget, portalDir: string) {
  const database: TestDatabase = await target.create();
  const clock = new FakeClock();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    ELEVATE_DATABASE_URL: database.url,
    ELEVATE_ADMIN_PASSWORD: 'correct horse battery staple',
    ELEVATE_PUBLIC_URL: url,
  });
  const app = await buildApp(config, { clock, db: database.db, portalDir });
  const demo = await seedDemo(app, config);
  await app.server.listen({ port, host: '127.0.0.1' });

  return {
    app,
    clock,
    config,
    url,
    demo,
    password(user: string) {
      const found = demo.users.find((u) => u.userPrincipalName.startsWith(`${user}@`));
      if (!found) throw new Error(`No demo user ${user}`);
      return found.password;
    },
    async close() {
      await app.close();
      await database.drop();
    },
  } satisfies RunningPortal;
}
