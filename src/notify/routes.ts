import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { actorOf, odataContext } from '../http/actor.js';
import { applySelect, collectionResponse, nextLinkFor } from '../http/odata.js';
import type { Server } from '../http/server.js';
import { toOutboxMessage, type OutboxAdmin } from './service.js';
import type { OutboxWorker } from './worker.js';

export interface OutboxRouteOptions {
  outbox: OutboxAdmin;
  publicUrl: string;
}

const PATH = '/admin/notifications/outbox';
const QueryString = Type.Record(Type.String(), Type.Unknown());
const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

/**
 * The email outbox for administrators: `GET /admin/notifications/outbox` with OData options
 * (`$filter=status eq 'dead'`, `$top`, `$count`), and `POST .../{id}/retry` for a dead message.
 */
export const outboxRoutes: FastifyPluginAsyncTypebox<OutboxRouteOptions> = async (
  app,
  { outbox, publicUrl },
) => {
  const tags = ['notifications'];

  app.get(PATH, { schema: { tags, querystring: QueryString } }, async (request) => {
    const { query, page } = await outbox.list(actorOf(request), request.query);

    const selected = query.select ? `(${query.select.join(',')})` : '';
    return collectionResponse(
      page.items.map((row) => applySelect(toOutboxMessage(row), query.select)),
      {
        context: odataContext(publicUrl, `admin/notifications/outbox${selected}`),
        count: page.count,
        nextLink: nextLinkFor(request.originalUrl, publicUrl, page.nextSkip),
      },
    );
  });

  app.post(`${PATH}/:id/retry`, { schema: { tags, params: IdParam } }, async (request) => {
    const message = await outbox.retry(actorOf(request), request.params.id);

    return {
      '@odata.context': odataContext(publicUrl, 'admin/notifications/outbox/$entity'),
      ...toOutboxMessage(message),
    };
  });
};

/**
 * Wakes the delivery loop after every request that may have written emails. Requests commit
 * before they answer, so the emails are there to be found; waking earlier could miss them.
 */
export function wakeAfterWrites(server: Server, worker: OutboxWorker): void {
  server.addHook('onResponse', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') worker.wake();
  });
}
