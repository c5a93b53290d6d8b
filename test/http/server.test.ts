import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createServer, rewriteGraphPath } from '../../src/http/server.js';
import { isGuid } from '../../src/shared/ids.js';
import { FakeClock } from '../support/clock.js';
import { ElevateProcess, freePort, tokenStatus } from './elevate-process.js';
import { describeEachDatabase, PUBLIC_URL } from '../support/elevate.js';

const CLIENT_REQUEST_ID = '0b6f3c2e-8d4a-4f4e-9a57-2f7a3c1d9e10';

describeEachDatabase('HTTP surface', (elevate) => {
  it('answers an unknown route with 404 in Graph shape carrying the request id', async () => {
    const response = await elevate().request('GET', '/v1.0/noSuchCollection');

    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'ResourceNotFound');
    assert.match(response.body.error.message, /noSuchCollection/);
    const requestId = response.headers['request-id'];
    assert.equal(typeof requestId, 'string');
    assert.ok(isGuid(requestId as string));
    assert.equal(response.body.error.innerError['request-id'], requestId);
    assert.match(response.body.error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('refuses a body breaking the schema with 400 naming the field, creating nothing', async () => {
    const upn = 'schema-violation@elevate.local';
    const response = await elevate().request('POST', '/v1.0/users', {
      body: { displayName: 'Schema', userPrincipalName: upn, accountEnabled: 'yes' },
    });

    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'BadRequest');
    assert.match(response.body.error.message, /accountEnabled/);
    assert.ok(response.body.error.innerError['request-id']);
    assert.equal((await elevate().request('GET', `/v1.0/users/${upn}`)).status, 404);
  });

  it('names a property that the schema does not allow', async () => {
    const response = await elevate().request('POST', '/v1.0/users', {
      body: { displayName: 'Extra', userPrincipalName: 'extra@elevate.local', isAdmin: true },
    });

    assert.equal(response.status, 400);
    assert.match(response.body.error.message, /isAdmin/);
  });

  it('refuses a body over 256 KiB with 413 in Graph shape', async () => {
    const response = await elevate().request('POST', '/v1.0/users', {
      body: {
        displayName: 'x'.repeat(257 * 1024),
        userPrincipalName: 'big@elevate.local',
      },
    });

    assert.equal(response.status, 413);
    assert.equal(response.body.error.code, 'RequestEntityTooLarge');
    assert.ok(response.body.error.innerError['request-id']);
    assert.equal((await elevate().request('GET', '/v1.0/users/big@elevate.local')).status, 404);
  });

  it('serves an OpenAPI document that lists the API', async () => {
    const response = await elevate().request('GET', '/openapi.json', { token: null });

    assert.equal(response.status, 200);
    assert.match(response.body.openapi, /^3\./);
    assert.ok(response.body.paths['/v1.0/users'].post);
    assert.ok(response.body.paths['/v1.0/users/{id}'].get);
    assert.ok(response.body.paths['/oauth2/v2.0/token']);
    assert.equal(response.body.servers[0].url, PUBLIC_URL);
  });

  it('serves the API documentation page and its assets', async () => {
    const page = await elevate().app.server.inject({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /swagger-ui/i);

    const css = /href="([^"]*swagger-ui\.css)"/.exec(page.body)?.[1];
    assert.ok(css, 'the page links its stylesheet');
    const asset = await elevate().app.server.inject({ method: 'GET', url: css });
    assert.equal(asset.statusCode, 200);
  });

  it('does not ask browsers to upgrade requests on a plain HTTP deployment', async () => {
    for (const url of ['/docs', '/healthz']) {
      const response = await elevate().app.server.inject({ method: 'GET', url });
      const csp = String(response.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
      assert.equal(response.headers['strict-transport-security'], undefined);
    }
  });

  it('echoes a GUID client-request-id as the request id', async () => {
    const response = await elevate().request('GET', '/v1.0/me', {
      headers: { 'client-request-id': CLIENT_REQUEST_ID },
    });

    assert.equal(response.status, 200);
    assert.equal(response.headers['request-id'], CLIENT_REQUEST_ID);
    assert.equal(response.headers['client-request-id'], CLIENT_REQUEST_ID);
  });

  it('replaces a client-request-id that is not a GUID with a fresh one', async () => {
    const response = await elevate().request('GET', '/v1.0/nowhere', {
      headers: { 'client-request-id': 'not-a-guid\r\nset-cookie: x=1' },
    });

    const requestId = response.headers['request-id'] as string;
    assert.ok(isGuid(requestId));
    assert.equal(response.body.error.innerError['request-id'], requestId);
    assert.equal(response.headers['set-cookie'], undefined);
  });
});

describe('OData function paths', () => {
  it('rewrites filterByCurrentUser calls to a routable path, quoted or percent-encoded', () => {
    const base = '/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances';
    const routed = `${base}/filterByCurrentUser/principal`;

    assert.equal(rewriteGraphPath(`${base}/filterByCurrentUser(on='principal')`), routed);
    assert.equal(rewriteGraphPath(`${base}/filterByCurrentUser(on=%27principal%27)`), routed);
    assert.equal(
      rewriteGraphPath(`${base}/filterByCurrentUser(on='principal')?$filter=groupId eq 'g'`),
      `${routed}?$filter=groupId eq 'g'`,
    );
    assert.equal(
      rewriteGraphPath(`${base}?x=filterByCurrentUser(on='principal')`),
      `${base}?x=filterByCurrentUser(on='principal')`,
    );
    assert.equal(rewriteGraphPath('/v1.0/users'), '/v1.0/users');
  });

  it('routes both spellings of a function call to the same handler', async () => {
    const server = await createServer({
      clock: new FakeClock(),
      logger: false,
      publicUrl: PUBLIC_URL,
    });
    server.get<{ Params: { on: string } }>('/v1.0/things/filterByCurrentUser/:on', (request) => ({
      on: request.params.on,
      query: request.query,
    }));
    after(() => server.close());

    for (const url of [
      "/v1.0/things/filterByCurrentUser(on='approver')?$top=2",
      '/v1.0/things/filterByCurrentUser(on=%27approver%27)?$top=2',
    ]) {
      const response = await server.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.deepEqual(JSON.parse(response.body), { on: 'approver', query: { $top: '2' } });
    }
  });
});

const tls = selfSignedCertificate();
after(() => fs.rmSync(tls.dir, { recursive: true, force: true }));

describeEachDatabase(
  'HTTPS',
  (elevate) => {
    it('serves over TLS with the configured certificate', async () => {
      await elevate().app.server.listen({ port: 0, host: '127.0.0.1' });
      const { port } = elevate().app.server.server.address() as AddressInfo;

      const response = await httpsGet(port, '/healthz');

      assert.equal(response.status, 200);
      assert.deepEqual(JSON.parse(response.body), { status: 'ok' });
      assert.match(response.certificateSubject, /elevate\.test/);
      assert.match(String(response.headers['strict-transport-security']), /max-age=/);
    });
  },
  {
    ELEVATE_TLS_CERT: tls.cert,
    ELEVATE_TLS_KEY: tls.key,
    ELEVATE_PUBLIC_URL: 'https://elevate.test',
  },
);

/** A throwaway key and self-signed certificate, made with the `openssl` command. */
function selfSignedCertificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=elevate.test',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { dir, key, cert };
}

function httpsGet(port: number, urlPath: string) {
  return new Promise<{
    status: number;
    body: string;
    headers: Record<string, string | string[] | undefined>;
    certificateSubject: string;
  }>((resolve, reject) => {
    const request = https.get(
      { host: '127.0.0.1', port, path: urlPath, rejectUnauthorized: false },
      (res) => {
        const certificate = (res.socket as TLSSocket).getPeerCertificate();
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            headers: res.headers,
            certificateSubject: String(certificate.subject.CN),
          }),
        );
      },
    );
    request.on('error', reject);
  });
}

describe('the elevate command', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-cli-'));
  const running: ElevateProcess[] = [];
  after(() => {
    for (const child of running) child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (args: string[], env: Record<string, string>) => {
    const child = ElevateProcess.start(args, env);
    running.push(child);
    return child;
  };

  it('stops cleanly with exit code 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = start(['serve'], {
      ELEVATE_DATABASE_URL: `sqlite:${path.join(dir, 'sigterm.db')}`,
      ELEVATE_PORT: String(port),
      ELEVATE_ADMIN_PASSWORD: 'a long enough password 9',
    });
    await child.waitUntilHealthy(port);

    child.child.kill('SIGTERM');
    const { code, signal } = await child.exit(5000);

    assert.equal(signal, null);
    assert.equal(code, 0, child.stderr);
  });

  it('migrates a fresh database, says what it applied, and then has nothing to do', async () => {
    const env = { ELEVATE_DATABASE_URL: `sqlite:${path.join(dir, 'migrate.db')}` };

    const first = start(['migrate'], env);
    assert.equal((await first.exit(60_000)).code, 0, first.stderr);
    assert.match(first.stdout, /^Applied 0001_directory, 0002_pim\b/);

    const second = start(['migrate'], env);
    assert.equal((await second.exit(60_000)).code, 0, second.stderr);
    assert.equal(second.stdout, 'The database is up to date.\n');
  });

  it('prints a generated admin password on the first start only, and it works', async () => {
    const env = { ELEVATE_DATABASE_URL: `sqlite:${path.join(dir, 'bootstrap.db')}` };
    const firstPort = await freePort();
    const first = start(['serve'], { ...env, ELEVATE_PORT: String(firstPort) });
    await first.waitUntilHealthy(firstPort);

    const printed = /Created admin@elevate\.local with the password (\S+)/.exec(first.stdout);
    assert.ok(printed?.[1], first.stdout);
    const password = printed[1];
    assert.equal(first.stdout.split(password).length - 1, 1, 'printed exactly once');
    assert.ok(!first.stderr.includes(password));
    assert.equal(await tokenStatus(firstPort, 'admin@elevate.local', password), 200);
    first.child.kill('SIGTERM');
    assert.equal((await first.exit(5000)).code, 0);

    const secondPort = await freePort();
    const second = start(['serve'], { ...env, ELEVATE_PORT: String(secondPort) });
    await second.waitUntilHealthy(secondPort);
    second.child.kill('SIGTERM');
    assert.equal((await second.exit(5000)).code, 0);
    assert.doesNotMatch(second.stdout, /password/i);
    assert.ok(!second.stdout.includes(password));
  });

  it('refuses a bad configuration with a clear message and exit code 2', async () => {
    const child = start(['migrate'], { ELEVATE_DATABASE_URL: 'mysql://db/elevate' });
    const { code } = await child.exit(60_000);

    assert.equal(code, 2);
    assert.match(child.stderr, /^elevate: ELEVATE_DATABASE_URL must be/);
  });
});
