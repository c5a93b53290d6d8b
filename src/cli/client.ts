import { CliError, ExitCode, usageError } from './errors.js';
import { toCliError } from './refusals.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
const TIMEOUT_MS = 30_000;

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** One request of a `$batch`, with its url relative to `/v1.0`. */
export interface BatchRequest {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
}

export interface BatchResponse {
  id: string;
  status: number;
  body: unknown;
}

/** A page of a Graph collection. */
interface Collection<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

/**
 * The Elevate API over HTTP, with Node's own fetch. A failed call becomes a CliError that says
 * what happened and what to do; the token goes to this one server and is never printed.
 */
export class ApiClient {
  constructor(
    readonly server: string,
    private readonly token: string | null,
  ) {}

  /** The raw answer, whatever its status; only a failure to reach the server throws. */
  async send(
    method: string,
    path: string,
    options: { body?: unknown; form?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(options.form).toString();
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(options.body);
    }

    let response: Response;
    try {
      response = await fetch(`${this.server}${path}`, {
        method,
        headers,
        body: payload ?? null,
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw unreachable(this.server, error);
    }

    const text = await response.text();
    return { status: response.status, body: parseBody(text) };
  }

  /** The body of a successful call; any other answer throws the matching CliError. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body === undefined ? {} : { body });
    if (response.status >= 300) throw toCliError(response.status, response.body, this.server);
    return response.body as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  patch(path: string, body: unknown): Promise<unknown> {
    return this.call('PATCH', path, body);
  }

  delete(path: string): Promise<unknown> {
    return this.call('DELETE', path);
  }

  /**
   * Every item of a collection, page after page. Next links are followed by their path only, on
   * this server: the server writes them with its public address, which may not be the one used
   * here, and the token must not travel anywhere else.
   */
  async list<T>(path: string, limit = 10_000): Promise<T[]> {
    const items: T[] = [];
    let next: string | null = path;
    while (next !== null && items.length < limit) {
      const page: Collection<T> = await this.get<Collection<T>>(next);
      items.push(...(page.value ?? []));
      next = page['@odata.nextLink'] ? relativeLink(page['@odata.nextLink']) : null;
    }
    return items.slice(0, limit);
  }

  /** Every item of a collection that came back in a batch, following its next links. */
  async values<T>(response: BatchResponse | undefined): Promise<T[]> {
    if (!response) throw new CliError(ExitCode.failure, 'The server left a request unanswered.');
    if (response.status >= 300) throw toCliError(response.status, response.body, this.server);

    const page = response.body as Collection<T>;
    const next = page['@odata.nextLink'];
    const rest = next ? await this.list<T>(relativeLink(next)) : [];
    return [...(page.value ?? []), ...rest];
  }

  /** Several calls in one round trip, through Graph's JSON batching; answers in their order. */
  async batch(requests: BatchRequest[]): Promise<BatchResponse[]> {
    const responses: BatchResponse[] = [];
    for (let from = 0; from < requests.length; from += 20) {
      const chunk = requests.slice(from, from + 20);
      const answer = await this.post<{ responses: BatchResponse[] }>('/v1.0/$batch', {
        requests: chunk.map((r) => ({
          id: r.id,
          method: r.method,
          url: r.url,
          ...(r.body === undefined ? {} : { body: r.body }),
        })),
      });
      const byId = new Map(answer.responses.map((r) => [r.id, r]));
      for (const request of chunk) {
        const response = byId.get(request.id);
        if (!response) {
          throw new CliError(ExitCode.failure, `The server did not answer request ${request.id}.`);
        }
        responses.push(response);
      }
    }
    return responses;
  }
}

/** A server address as the user gave it, checked and without a trailing slash. */
export function normalizeServer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`'${value}' is not a server address: give one like http://127.0.0.1:8080.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`The server address must start with http:// or https://, not ${url.protocol}`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw usageError('The server address must not carry a user, a password, a query or a hash.');
  }
  return url.toString().replace(/\/+$/, '');
}

/** A path with its query, for a URL in OData's collection syntax. */
export function odataPath(path: string, query: Record<string, string | undefined>): string {
  const parts = Object.entries(query)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`);
  return parts.length > 0 ? `${path}?${parts.join('&')}` : path;
}

/** A string literal of OData: quoted, with its quotes doubled. */
export function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function relativeLink(link: string): string {
  const url = new URL(link, 'http://elevate.invalid');
  return `${url.pathname}${url.search}`;
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { error: { code: null, message: text.slice(0, 200) } };
  }
}

function unreachable(server: string, error: unknown): CliError {
  const cause = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined) : null;
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  const reason = timedOut
    ? `no answer within ${TIMEOUT_MS / 1000} seconds`
    : (cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error)));
  return new CliError(
    ExitCode.unreachable,
    `Cannot reach the Elevate server at ${server} (${reason}).`,
    {
      details: [
        'Check the address (--server, ELEVATE_SERVER, or the one stored by elevate login) and ' +
          'that the server is running.',
      ],
      code: 'Unreachable',
    },
  );
}
