import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `elevate login` keeps between commands. The token is the only secret in it. */
export interface Credentials {
  server: string;
  userId: string;
  userPrincipalName: string;
  displayName: string;
  amr: string[];
  accessToken: string;
  /**
   * When the token expires by this computer's clock: the time of sign-in plus the lifetime the
   * server answered. Shown to the user only; the server alone decides whether a token is valid.
   */
  expiresDateTime: string;
}

const FILE = 'credentials.json';

/** `$ELEVATE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/elevate`, else `~/.config/elevate`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ELEVATE_CONFIG_DIR) return path.resolve(env.ELEVATE_CONFIG_DIR);
  const base = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(base, 'elevate');
}

export function credentialsPath(): string {
  return path.join(configDir(), FILE);
}

export function loadCredentials(): Credentials | null {
  let text: string;
  try {
    text = fs.readFileSync(credentialsPath(), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as Partial<Credentials>;
    return isCredentials(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Writes the credentials readable by their owner only. The folder is made private too, and the
 * file is written beside its final name and renamed, so a reader never sees half of it.
 */
export function saveCredentials(credentials: Credentials): string {
  const dir = configDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);

  const target = path.join(dir, FILE);
  const temporary = path.join(dir, `.${FILE}.${process.pid}`);
  fs.writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, {
    mode: 0o600,
    flag: 'w',
  });
  fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, target);
  return target;
}

/** Removes the stored sign-in; answers whether there was one. */
export function removeCredentials(): boolean {
  try {
    fs.unlinkSync(credentialsPath());
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function isCredentials(value: Partial<Credentials>): value is Credentials {
  return (
    typeof value.server === 'string' &&
    typeof value.userId === 'string' &&
    typeof value.userPrincipalName === 'string' &&
    typeof value.displayName === 'string' &&
    typeof value.accessToken === 'string' &&
    typeof value.expiresDateTime === 'string' &&
    Array.isArray(value.amr)
  );
}
