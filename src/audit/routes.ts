import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../db/database.js';
import type { AccessService } from '../directory/access.js';
import { DirectoryPermissions } from '../directory/permissions.js';
import { actorOf, odataContext } from '../http/actor.js';
import { applySelect, collectionResponse, nextLinkFor } from '../http/odata.js';
import { AuditReader } from './service.js';
import { AuditIdParam, DirectoryAuditsQueryString, toDirectoryAudit } from './schema.js';

export interface AuditRouteOptions {
  db: Db;
  access: AccessService;
  publicUrl: string;
}

/** `GET /auditLogs/directoryAudits` and `GET /auditLogs/directoryAudits/{id}`, as in Graph. */
export const auditRoutes: FastifyPluginAsyncTypebox<AuditRouteOptions> = async (
  app,
  { db, access, publicUrl },
) => {
  const reader = new AuditReader(db, new DirectoryPermissions(access));

  app.get(
    '/auditLogs/directoryAudits',
    { schema: { tags: ['audit'], querystring: DirectoryAuditsQueryString } },
    async (request) => {
      const { query, page } = await reader.list(actorOf(request), request.query);

      const selected = query.select ? `(${query.select.join(',')})` : '';
      return collectionResponse(
        page.items.map((row) => applySelect(toDirectoryAudit(row), query.select)),
        {
          context: odataContext(publicUrl, `auditLogs/directoryAudits${selected}`),
          count: page.count,
          nextLink: nextLinkFor(request.originalUrl, publicUrl, page.nextSkip),
        },
      );
    },
  );

  app.get(
    '/auditLogs/directoryAudits/:id',
    { schema: { tags: ['audit'], params: AuditIdParam } },
    async (request) => {
      const event = await reader.get(actorOf(request), request.params.id);

      return {
        '@odata.context': odataContext(publicUrl, 'auditLogs/directoryAudits/$entity'),
        ...toDirectoryAudit(event),
      };
    },
  );
};
