/**
 * The one error type that crosses module boundaries. Each module names its own codes (see the
 * `errors.ts` beside its service); `server.ts` turns them into Graph's error shape in one place.
 */
export class GraphError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export const badRequest = (message: string) => new GraphError(400, 'BadRequest', message);

export const notFound = (message: string) => new GraphError(404, 'ResourceNotFound', message);

export const forbidden = (message = 'Insufficient privileges to complete the operation.') =>
  new GraphError(403, 'Authorization_RequestDenied', message);

export const conflict = (code: string, message: string) => new GraphError(409, code, message);

export const unauthenticated = (message: string) =>
  new GraphError(401, 'InvalidAuthenticationToken', message);

/** Graph's error body: `{"error":{"code","message","innerError":{"date","request-id"}}}`. */
export function graphErrorBody(code: string, message: string, requestId: string, date: Date) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'request-id': requestId,
        'client-request-id': requestId,
      },
    },
  };
}
