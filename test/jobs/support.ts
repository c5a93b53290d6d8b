import { sql, type Kysely } from 'kysely';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';
import type { NotificationEvent, Notifier } from '../../src/notify/events.js';
import { newId } from '../../src/shared/ids.js';
import { ADMIN_PASSWORD, PUBLIC_URL, type TestElevate } from '../support/elevate.js';

/**
 * A notifier that writes each event to a table in the transaction it is given, so that a test
 * sees exactly the notifications that committed.
 */
export class RecordingNotifier implements Notifier {
  private failing: string | null = null;

  async notify(trx: Kysely<Database>, event: NotificationEvent): Promise<void> {
    const scheduleId = 'scheduleId' in event ? event.scheduleId : null;
    const requestId = 'requestId' in event ? event.requestId : null;
    if (scheduleId !== null && scheduleId === this.failing) {
      this.failing = null;
      throw new Error('the notifier failed');
    }
    const daysLeft = event.type === 'assignmentEnding' ? event.daysLeft : null;
    await sql`insert into test_notifications (id, type, schedule_id, request_id, days_left)
      values (${newId()}, ${event.type}, ${scheduleId}, ${requestId}, ${daysLeft})`.execute(trx);
  }

  /** The next notification about the schedule fails, as a crash in the middle of a batch would. */
  failOn(scheduleId: string): void {
    this.failing = scheduleId;
  }
}

export async function createNotificationsTable(db: Db): Promise<void> {
  await sql`create table if not exists test_notifications (
    id text primary key, type text not null, schedule_id text, request_id text, days_left integer
  )`.execute(db.kysely);
}

/** The committed notifications about one schedule, as `type` or `type:daysLeft`. */
export async function notificationsOf(db: Db, scheduleId: string): Promise<string[]> {
  const result = await sql<{ type: string; days_left: number | null }>`
    select type, days_left from test_notifications where schedule_id = ${scheduleId}
    order by type, days_left`.execute(db.kysely);
  return result.rows.map((r) => (r.days_left === null ? r.type : `${r.type}:${r.days_left}`));
}

export async function notificationCount(db: Db, type: string): Promise<number> {
  const result = await sql<{ count: number | string }>`
    select count(*) as count from test_notifications where type = ${type}`.execute(db.kysely);
  return Number(result.rows[0]?.count ?? 0);
}

/** Audit events naming `targetId` (a schedule's request, a group, a user) with the activity. */
export async function auditCount(db: Db, activity: string, targetId: string): Promise<number> {
  const row = await db.kysely
    .selectFrom('audit_events as e')
    .innerJoin('audit_targets as t', 't.audit_event_id', 'e.id')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('e.activity_display_name', '=', activity)
    .where('t.target_id', '=', targetId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function scheduleStatus(db: Db, id: string): Promise<string | undefined> {
  const row = await db.kysely
    .selectFrom('pim_schedules')
    .select('status')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.status;
}

/**
 * Another Elevate instance on the same database, through a connection of its own and with the
 * same clock: a second server behind the load balancer, or the same server after a restart.
 */
export async function anotherInstance(
  elevate: TestElevate,
  notifier?: Notifier,
): Promise<{ app: App; close: () => Promise<void> }> {
  const { url, schema } = elevate.database;
  const db = await openDatabase(url, schema ? { schema } : {});
  const config = loadConfig({
    ELEVATE_DATABASE_URL: url,
    ELEVATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ELEVATE_PUBLIC_URL: PUBLIC_URL,
  });
  const app = await buildApp(config, {
    clock: elevate.clock,
    db,
    ...(notifier ? { notifier } : {}),
  });
  return {
    app,
    async close() {
      await app.close();
      await db.close();
    },
  };
}

/**
 * Writes `count` assigned assignments of the group straight into the store, as many requests
 * would have made them, spread over the principals: fast enough to build a large backlog.
 */
export async function insertAssignments(
  db: Db,
  options: {
    count: number;
    groupId: string;
    principalIds: string[];
    start: Date;
    end: Date;
    kind?: 'assignment' | 'eligibility';
  },
): Promise<string[]> {
  const ids: string[] = [];
  const rows = Array.from({ length: options.count }, (_, index) => {
    const requestId = newId();
    const id = `${options.groupId}_member_${requestId}`;
    ids.push(id);
    const kind = options.kind ?? 'assignment';
    return {
      id,
      kind,
      group_id: options.groupId,
      principal_id: options.principalIds[index % options.principalIds.length] ?? '',
      access_id: 'member' as const,
      assignment_type: kind === 'assignment' ? ('assigned' as const) : null,
      member_type: 'direct' as const,
      status: 'Provisioned',
      start_at: options.start.toISOString(),
      end_at: options.end.toISOString(),
      expiration_type: 'afterDateTime',
      created_using: requestId,
      activated_using: null,
      activation_settings: null,
      created_at: options.start.toISOString(),
      modified_at: options.start.toISOString(),
    };
  });
  for (let at = 0; at < rows.length; at += 200) {
    await db.kysely
      .insertInto('pim_schedules')
      .values(rows.slice(at, at + 200))
      .execute();
  }
  return ids;
}
