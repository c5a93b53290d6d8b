import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { Clock } from '../shared/clock.js';

export const SESSION_COOKIE = 'elevate_session';
export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Portal sessions: a random 256-bit cookie value, of which the server keeps only a hash. */
export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async create(userId: string, amr: string[]): Promise<string> {
    const value = randomBytes(32).toString('base64url');
    const now = this.clock.now();

    // Expired sessions are never found again; clearing them here keeps the table small.
    await this.db.kysely
      .deleteFrom('sessions')
      .where('expires_at', '<=', now.toISOString())
      .execute();
    await this.db.kysely
      .insertInto('sessions')
      .values({
        id_hash: digest(value),
        user_id: userId,
        amr: JSON.stringify(amr),
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + SESSION_LIFETIME_MS).toISOString(),
      })
      .execute();
    return value;
  }

  async find(value: string): Promise<{ userId: string; amr: string[] } | null> {
    const row = await this.db.kysely
      .selectFrom('sessions')
      .select(['user_id', 'amr'])
      .where('id_hash', '=', digest(value))
      .where('expires_at', '>', this.clock.now().toISOString())
      .executeTakeFirst();
    return row ? { userId: row.user_id, amr: JSON.parse(row.amr) as string[] } : null;
  }

  async end(value: string): Promise<void> {
    await this.db.kysely.deleteFrom('sessions').where('id_hash', '=', digest(value)).execute();
  }
}
