import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-config-'));
  const pem = path.join(dir, 'cert.pem');
  fs.writeFileSync(pem, 'not read until the server starts');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const refuses = (env: NodeJS.ProcessEnv, message: RegExp) =>
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
    );

  it('has the documented defaults', () => {
    const config = loadConfig({});

    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.databaseUrl, 'sqlite:./data/elevate.db');
    assert.equal(config.domain, 'elevate.local');
    assert.equal(config.publicUrl, 'http://127.0.0.1:8080');
    assert.equal(config.mailFrom, 'elevate@elevate.local');
    assert.equal(config.adminPassword, undefined);
    assert.equal(config.tls, undefined);
  });

  it('refuses a port that is not a whole number from 0 to 65535', () => {
    for (const port of ['http', '-1', '65536', '80.5', '0x1F90', '8e3', ' 8080']) {
      refuses({ ELEVATE_PORT: port }, /^ELEVATE_PORT must be a whole number/);
    }
    assert.equal(loadConfig({ ELEVATE_PORT: '9443' }).port, 9443);
  });

  it('refuses a database URL that is neither SQLite nor PostgreSQL', () => {
    for (const url of ['mysql://db/elevate', './elevate.db', 'sqlite:', 'postgres://']) {
      refuses({ ELEVATE_DATABASE_URL: url }, /^ELEVATE_DATABASE_URL must /);
    }
    assert.equal(
      loadConfig({ ELEVATE_DATABASE_URL: 'postgresql://u@db:5432/e' }).databaseUrl,
      'postgresql://u@db:5432/e',
    );
  });

  it('does not repeat a database password in its complaint', () => {
    assert.throws(
      () => loadConfig({ ELEVATE_DATABASE_URL: 'mysql://u:s3cret-pw@db/elevate' }),
      (error: unknown) => error instanceof ConfigError && !error.message.includes('s3cret-pw'),
    );
  });

  it('refuses a certificate without a key and a key without a certificate', () => {
    refuses({ ELEVATE_TLS_CERT: pem }, /must be set together/);
    refuses({ ELEVATE_TLS_KEY: pem }, /must be set together/);
  });

  it('refuses TLS files that cannot be read', () => {
    const missing = path.join(dir, 'missing.pem');
    refuses({ ELEVATE_TLS_CERT: missing, ELEVATE_TLS_KEY: pem }, /^ELEVATE_TLS_CERT names a file/);
  });

  it('serves HTTPS and says so in its public URL when both TLS files are given', () => {
    const config = loadConfig({
      ELEVATE_TLS_CERT: pem,
      ELEVATE_TLS_KEY: pem,
      ELEVATE_PORT: '8443',
    });

    assert.deepEqual(config.tls, { certFile: pem, keyFile: pem });
    assert.equal(config.publicUrl, 'https://127.0.0.1:8443');
  });

  it('builds a valid public URL for an IPv6 listen address', () => {
    assert.equal(loadConfig({ ELEVATE_HOST: '::1' }).publicUrl, 'http://[::1]:8080');
  });

  it('refuses a public URL that is not an http or https URL', () => {
    for (const url of ['elevate.example.com', 'ftp://elevate.example.com']) {
      refuses({ ELEVATE_PUBLIC_URL: url }, /^ELEVATE_PUBLIC_URL must be/);
    }
    const config = loadConfig({ ELEVATE_PUBLIC_URL: 'https://pim.example.com/' });
    assert.equal(config.publicUrl, 'https://pim.example.com');
  });

  it('refuses a bad domain and a bad SMTP URL', () => {
    refuses({ ELEVATE_DOMAIN: 'not a domain' }, /^ELEVATE_DOMAIN must be/);
    refuses({ ELEVATE_SMTP_URL: 'mail.example.com:25' }, /^ELEVATE_SMTP_URL must/);
    assert.equal(
      loadConfig({ ELEVATE_SMTP_URL: 'smtp://u:p@mail.example.com:587' }).smtpUrl,
      'smtp://u:p@mail.example.com:587',
    );
  });
});
