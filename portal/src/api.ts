/**
 * Calls to Elevate's API. The browser holds only the httpOnly session cookie, which it sends
 * on its own to this origin; nothing here reads or stores a token.
 */

export const PIM = '/v1.0/identityGovernance/privilegedAccess/group';

/** An answer other than 2xx, in Graph's error shape or the sign-in's. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface GraphErrorBody {
  error?: { code?: string; message?: string } | string;
  error_description?: string;
}

export interface Collection<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Called when the server says the session is gone, so the portal can ask to sign in. */
let onSignedOut: () => void = () => {};

export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export async function call<T>(method: Method, url: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'NetworkError', 'The server could not be reached.');
  }

  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : null;
  if (!response.ok) {
    const error = toApiError(response.status, parsed);
    if (response.status === 401 && !url.startsWith('/auth/')) onSignedOut();
    throw error;
  }
  return parsed as T;
}

export const get = <T>(url: string) => call<T>('GET', url);
export const post = <T>(url: string, body?: unknown) => call<T>('POST', url, body ?? {});
export const patch = <T>(url: string, body: unknown) => call<T>('PATCH', url, body);

/** Every page of a collection, following `@odata.nextLink` within this origin. */
export async function getAll<T>(url: string, limit = 20): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined = url;
  for (let page = 0; next && page < limit; page++) {
    const body: Collection<T> = await get<Collection<T>>(next);
    items.push(...body.value);
    const link = body['@odata.nextLink'];
    next = link ? sameOriginPath(link) : undefined;
  }
  return items;
}

function sameOriginPath(link: string): string | undefined {
  const url = new URL(link, window.location.origin);
  return url.origin === window.location.origin ? url.pathname + url.search : undefined;
}

export interface BatchRequest {
  id: string;
  method: Method;
  /** Relative to /v1.0, as Graph's batching expects. */
  url: string;
  body?: unknown;
}

export interface BatchResult<T = unknown> {
  id: string;
  ok: boolean;
  body: T | null;
  error: ApiError | null;
}

/** Several requests in one round trip through `POST /v1.0/$batch`, each answered on its own. */
export async function batch<T>(requests: BatchRequest[]): Promise<BatchResult<T>[]> {
  const answer = await post<{ responses: { id: string; status: number; body: unknown }[] }>(
    '/v1.0/$batch',
    { requests },
  );
  return requests.map((request) => {
    const response = answer.responses.find((r) => r.id === request.id);
    const status = response?.status ?? 500;
    const ok = status >= 200 && status < 300;
    return {
      id: request.id,
      ok,
      body: ok ? ((response?.body ?? null) as T | null) : null,
      error: ok ? null : toApiError(status, response?.body ?? null),
    };
  });
}

function toApiError(status: number, body: unknown): ApiError {
  const shaped = (body ?? {}) as GraphErrorBody;
  if (typeof shaped.error === 'object' && shaped.error !== null) {
    return new ApiError(status, shaped.error.code ?? 'Error', shaped.error.message ?? '');
  }
  if (typeof shaped.error === 'string') {
    return new ApiError(status, shaped.error, shaped.error_description ?? '');
  }
  return new ApiError(status, 'Error', `The server answered ${status}.`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** A value for an OData string literal: single quotes doubled, as OData escapes them. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function query(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
