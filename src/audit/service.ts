import type { Db } from '../db/database.js';
import type { AuditEventTable } from '../db/schema.js';
import type { DirectoryPermissions } from '../directory/permissions.js';
import type { CallerActor } from '../directory/service.js';
import { notFound } from '../http/errors.js';
import { parseODataQuery, type ODataQuery, type Page } from '../http/odata.js';
import { directoryAuditsCollection, findAuditEvent, listAuditEvents } from './store.js';

/**
 * Reads the audit log. It tells who changed what and from where, so only those who may read the
 * whole directory may read it: Global Administrators, Privileged Role Administrators and Global
 * Readers.
 */
export class AuditReader {
  constructor(
    private readonly db: Db,
    private readonly permissions: DirectoryPermissions,
  ) {}

  /** Authorizes first, so that a caller who may not read learns nothing from query errors. */
  async list(
    actor: CallerActor,
    queryOptions: unknown,
  ): Promise<{ query: ODataQuery; page: Page<AuditEventTable> }> {
    await this.permissions.requireReader(actor.caller);

    const query = parseODataQuery(queryOptions, directoryAuditsCollection);
    const page = await listAuditEvents(this.db.kysely, query);
    return { query, page };
  }

  async get(actor: CallerActor, id: string) {
    await this.permissions.requireReader(actor.caller);

    const event = await findAuditEvent(this.db.kysely, id);
    if (!event) throw notFound(`Audit event '${id.slice(0, 64)}' does not exist.`);
    return event;
  }
}
