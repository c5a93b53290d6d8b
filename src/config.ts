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
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('ELEVATE_DATABASE_URL must start with sqlite: or postgres://');
  }

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

  const scheme = tls ? 'https' : 'http';
  const publicUrl = (env.ELEVATE_PUBLIC_URL || `${scheme}://${host}:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError('ELEVATE_PUBLIC_URL must be an absolute URL');
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
    smtpUrl: env.ELEVATE_SMTP_URL || undefined,
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

  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}
