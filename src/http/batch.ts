import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { InjectOptions } from 'fastify';
import { badRequest } from './errors.js';

/** Graph allows at most 20 requests in one batch. */
const MAX_REQUESTS = 20;
const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;

const BatchBody = Type.Object(
  {
    requests: Type.Array(
      Type.Object(
        {
          id: Type.String({ minLength: 1, maxLength: 64 }),
          method: Type.String({ maxLength: 10 }),
          url: Type.String({ minLength: 1, maxLength: 2048 }),
          headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 1024 }))),
          body: Type.Optional(Type.Unknown()),
          dependsOn: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);

/** Headers of the batch that carry the caller's identity into each of its requests. */
const FORWARDED = ['authorization', 'cookie', 'origin', 'client-request-id'];

/**
 * `POST /v1.0/$batch`, Graph's JSON batching: each request runs through the whole HTTP stack
 * again, with the batch's own credentials, so it is authenticated and authorised exactly as if
 * it had been sent alone. Requests run one after another, in the order given.
 */
export const batchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/$batch', { schema: { tags: ['batch'], body: BatchBody } }, async (request) => {
    const { requests } = request.body;
    if (requests.length > MAX_REQUESTS) {
      throw badRequest(`A batch may hold at most ${MAX_REQUESTS} requests.`);
    }
    const ids = new Set(requests.map((r) => r.id));
    if (ids.size !== requests.length) throw badRequest('Request ids in a batch must be unique.');

    const forwarded: Record<string, string> = {};
    for (const name of FORWARDED) {
      const value = request.headers[name];
      if (typeof value === 'string') forwarded[name] = value;
    }

    const responses = [];
    for (const item of requests) {
      const method = METHODS.find((m) => m === item.method.toUpperCase());
      if (!method)
        throw badRequest(`Request '${item.id}': method must be one of ${METHODS.join(', ')}.`);
      if (!item.url.startsWith('/') || item.url.startsWith('//') || item.url.includes('$batch')) {
        throw badRequest(`Request '${item.id}': url must be a path relative to /v1.0, like /me.`);
      }

      const options: InjectOptions = {
        method,
        url: `/v1.0${item.url}`,
        headers: { ...item.headers, ...forwarded, 'content-type': 'application/json' },
        ...(item.body === undefined ? {} : { payload: JSON.stringify(item.body) }),
      };
      const response = await app.inject(options);
      responses.push({
        id: item.id,
        status: response.statusCode,
        headers: { 'content-type': response.headers['content-type'] ?? 'application/json' },
        body: response.body ? (JSON.parse(response.body) as unknown) : null,
      });
    }
    return { responses };
  });
};
