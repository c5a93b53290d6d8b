import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { FakeClock } from '../support/clock.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

// How the server hands out the portal: its page, its assets and its headers. A stand-in build
// is enough here; the browser tests run the real one.

const PAGE =
  '<!doctype html><html><head><meta name="elevate-server-time" content="" />' +
  '<script type="module" src="/assets/index-abc123.js"></script></head><body></body></html>';

function fakeBuild(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-portal-build-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), PAGE);
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1);\n');
  return dir;
}

for (const target of databaseTargets) {
  describe(`serving the portal [${target.name}]`, () => {
    const clock = new FakeClock('2026-06-01T09:00:00.000Z');
    let database: TestDatabase;
    let app: App;
    let dir: string;

    before(async () => {
      database = await target.create();
      dir = fakeBuild();
      const config = loadConfig({
        ELEVATE_DATABASE_URL: database.url,
        ELEVATE_ADMIN_PASSWORD: 'correct horse battery staple',
        ELEVATE_PUBLIC_URL: 'http://elevate.test:8080',
      });
      app = await buildApp(config, { clock, db: database.db, portalDir: dir });
    });

    after(async () => {
      await app?.close();
      await database?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('serves the page with a strict policy and the server time, never cached', async () => {
      const response = await app.server.inject({ method: 'GET', url: '/' });

      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.equal(response.headers['cache-control'], 'no-store');
      const csp = String(response.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /style-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(
        response.body,
        /<meta name="elevate-server-time" content="2026-06-01T09:00:00.000Z"/,
      );
      assert.equal(response.headers['elevate-server-time'], '2026-06-01T09:00:00.000Z');
    });

    it("tells the server's time again on HEAD, as its clock moves", async () => {
      clock.advance(90_000);
      const response = await app.server.inject({ method: 'HEAD', url: '/' });

      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['elevate-server-time'], '2026-06-01T09:01:30.000Z');
    });

    it('opens client routes typed without the # as the same page', async () => {
      for (const url of [
        '/my-roles',
        '/approvals/1b6a0d2e-0000-4000-8000-000000000000',
        '/audit',
      ]) {
        const response = await app.server.inject({ method: 'GET', url });
        assert.equal(response.statusCode, 200, url);
        assert.match(response.body, /elevate-server-time/, url);
      }
    });

    it('serves hashed assets for long caching, and nothing outside the build', async () => {
      const asset = await app.server.inject({ method: 'GET', url: '/assets/index-abc123.js' });
      assert.equal(asset.statusCode, 200);
      assert.match(String(asset.headers['cache-control']), /immutable/);
      assert.equal(asset.body, 'console.log(1);\n');

      const missing = await app.server.inject({ method: 'GET', url: '/assets/../index.html' });
      assert.notEqual(missing.body, PAGE);
      const unknown = await app.server.inject({ method: 'GET', url: '/assets/nope.js' });
      assert.equal(unknown.statusCode, 404);
    });

    it("leaves the API's own headers and errors as they were", async () => {
      const response = await app.server.inject({ method: 'GET', url: '/v1.0/me' });

      assert.equal(response.statusCode, 401);
      assert.equal(JSON.parse(response.body).error.code, 'InvalidAuthenticationToken');
      assert.match(String(response.headers['content-security-policy']), /default-src 'self'/);
    });
  });
}

describe('serving a portal that was not built', () => {
  let database: TestDatabase;
  let app: App;

  before(async () => {
    database = await databaseTargets[0]!.create();
    const config = loadConfig({
      ELEVATE_DATABASE_URL: database.url,
      ELEVATE_ADMIN_PASSWORD: 'correct horse battery staple',
    });
    const empty = path.join(os.tmpdir(), 'elevate-no-portal-here');
    app = await buildApp(config, { clock: new FakeClock(), db: database.db, portalDir: empty });
  });

  after(async () => {
    await app?.close();
    await database?.drop();
  });

  it('says how to build it instead of failing to start', async () => {
    const response = await app.server.inject({ method: 'GET', url: '/' });

    assert.equal(response.statusCode, 503);
    assert.match(response.body, /npm run build/);
  });
});
