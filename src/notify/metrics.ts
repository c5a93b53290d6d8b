import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/database.js';
import { countByStatus } from './store.js';

/**
 * `elevate_outbox_messages{status}`: emails waiting (`pending`), sent, and given up after their
 * last attempt (`dead`), read from the database at each scrape. Alert on `dead` above zero, and
 * on `pending` that keeps growing: the mail server is refusing or unreachable.
 */
export function registerOutboxMetrics(registry: Registry, db: Db): void {
  new Gauge({
    name: 'elevate_outbox_messages',
    help:
      'Emails in the outbox by status: pending, sent, or dead ' +
      '(given up after the last attempt).',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      try {
        const counts = await countByStatus(db.kysely);
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      } catch {
        // The previous values stand, so that one failed query does not fail the whole scrape.
      }
    },
  });
}
