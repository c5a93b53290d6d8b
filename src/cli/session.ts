import { ApiClient, DEFAULT_SERVER, normalizeServer } from './client.js';
import { loadCredentials, type Credentials } from './credentials.js';
import { signedOut } from './errors.js';

/** The options every client command takes. */
export interface ClientOptions {
  server?: string;
  json?: boolean;
}

/**
 * The server to talk to: `--server`, else `ELEVATE_SERVER`, else the one stored at sign-in, else
 * the local default.
 */
export function chooseServer(options: ClientOptions, stored: Credentials | null = null): string {
  const given = options.server ?? process.env.ELEVATE_SERVER;
  if (given) return normalizeServer(given);
  return stored?.server ?? DEFAULT_SERVER;
}

export interface Session {
  client: ApiClient;
  credentials: Credentials;
}

/**
 * A client signed in to the chosen server. A token is sent only to the server that issued it,
 * so a different server means signing in again, not leaking the token to it.
 */
export function connect(options: ClientOptions): Session {
  const credentials = loadCredentials();
  const server = chooseServer(options, credentials);
  if (!credentials) {
    throw signedOut(`You are not signed in to ${server}. Sign in first: elevate login USER`);
  }
  if (credentials.server !== server) {
    throw signedOut(
      `You are signed in to ${credentials.server}, not ${server}. Sign in there first: ` +
        `elevate login ${credentials.userPrincipalName} --server ${server}`,
    );
  }
  return { client: new ApiClient(server, credentials.accessToken), credentials };
}
