import fs from 'node:fs';
import path from 'node:path';

/** Settings read once from the environment at start; see the configuration table in the README. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** Folder of the SQLite database; emails without SMTP are written to its `outbox/`. */
  dataDir: string;
  domain: string;
  adminPassword: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  publicUrl: string;
  tls: { certFile: string; keyFile: string } | undefined;
  /** How long before its end a principal may ask to extend an assignment. */
  extensionWindowDays: number;
  /** How long after its end a principal may ask to renew an assignment. */
  renewalWindowDays: number;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'ELEVATE_PORT', 8080, 0, 65535);
  const host = env.ELEVATE_HOST || '127.0.0.1';
  const databaseUrl = env.ELEVATE_DATABASE_URL || 'sqlite:./data/elevate.db';
  checkDatabaseUrl(databaseUrl);

  const domain = (env.ELEVATE_DOMAIN || 'elevate.local').toLowerCase();
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(domain)) {
    throw new ConfigError('ELEVATE_DOMAIN must be a DNS name such as example.com');
  }

  const certFile = env.ELEVATE_TLS_CERT;
  const keyFile = env.ELEVATE_TLS_KEY;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError('ELEVATE_TLS_CERT and ELEVATE_TLS_KEY must be set together');
  }
  const tls = certFile && keyFile ? { certFile, keyFile } : undefined;
  if (tls) {
    readable('ELEVATE_TLS_CERT', tls.certFile);
    readable('ELEVATE_TLS_KEY', tls.keyFile);
  }

  const scheme = tls ? 'https' : 'http';
  // An IPv6 listen address needs brackets to be a URL's host.
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const publicUrl = (env.ELEVATE_PUBLIC_URL || `${scheme}://${urlHost}:${port}`).replace(
    /\/+$/,
    '',
  );
  if (!isWebUrl(publicUrl)) {
    throw new ConfigError('ELEVATE_PUBLIC_URL must be an absolute http:// or https:// URL');
  }

  return {
    port,
    host,
    databaseUrl,
    dataDir: databaseUrl.startsWith('sqlite:')
      ? path.dirname(path.resolve(databaseUrl.slice('sqlite:'.length)))
      : path.resolve('data'),
    domain,
    adminPassword: env.ELEVATE_ADMIN_PASSWORD || undefined,
    smtpUrl: smtpUrl(env.ELEVATE_SMTP_URL),
    mailFrom: env.ELEVATE_MAIL_FROM || `elevate@${domain}`,
    publicUrl,
    tls,
    extensionWindowDays: integer(env, 'ELEVATE_EXTENSION_WINDOW_DAYS', 14, 0, 365),
    renewalWindowDays: integer(env, 'ELEVATE_RENEWAL_WINDOW_DAYS', 30, 0, 365),
  };
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;

  // Plain digits only: Number() would also take '0x1F90', '8e3' and ' 8080 '.
  const value = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function checkDatabaseUrl(url: string): void {
  if (url.startsWith('sqlite:')) {
    if (url.length === 'sqlite:'.length) {
      throw new ConfigError(
        'ELEVATE_DATABASE_URL must name a file, as in sqlite:./data/elevate.db',
      );
    }
    return;
  }

  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // Reported below, without echoing the URL: it may hold a password.
  }
  const postgres = parsed?.protocol === 'postgres:' || parsed?.protocol === 'postgresql:';
  if (!parsed || !postgres || !parsed.hostname) {
    throw new ConfigError(
      'ELEVATE_DATABASE_URL must be sqlite:<path> or postgres://user@host:port/database',
    );
  }
}

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function readable(name: string, file: string): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new ConfigError(`${name} names a file that cannot be read: ${file}`);
  }
}

function smtpUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;

  // The URL may carry a password, so the message never repeats it.
  if (!/^smtps?:\/\/[^/?#]+/.test(value)) {
    throw new ConfigError('ELEVATE_SMTP_URL must look like smtp://user:pass@host:port');
  }
  return value;
}
