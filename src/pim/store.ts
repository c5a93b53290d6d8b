import type { Kysely } from 'kysely';
import type { DialectName } from '../db/database.js';
import type { AccessId, Database, ScheduleKind } from '../db/schema.js';
import { isGuid } from '../shared/ids.js';
import type { RequestRow, ScheduleRow } from './schema.js';

type Db = Kysely<Database>;

/** The statuses of a request that waits for a person's decision. */
export const PENDING_STATUSES = ['PendingApproval', 'PendingAdminDecision'] as const;

export interface ScheduleKey {
  kind: ScheduleKind;
  groupId: string;
  principalId: string;
  accessId: AccessId;
}

/**
 * Serialises every write to one group's member or owner assignments. On PostgreSQL the policy
 * row is locked; SQLite's write transactions already exclude each other (BEGIN IMMEDIATE). Two
 * activations of one eligibility, or an activation racing the removal of its eligibility, so
 * see each other's outcome instead of both passing their checks.
 */
export async function lockGroupAccess(
  db: Db,
  dialect: DialectName,
  groupId: string,
  accessId: AccessId,
): Promise<void> {
  if (dialect === 'postgres') await lockPolicy(db, dialect, groupId, accessId);
}

/**
 * Takes the same lock as `lockGroupAccess` and answers the id of the policy it locked, or
 * undefined while the group is not onboarded: a request needs the policy anyway, so on SQLite
 * this one read does both.
 */
export async function lockPolicy(
  db: Db,
  dialect: DialectName,
  groupId: string,
  accessId: AccessId,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('pim_policies')
    .select('id')
    .where('group_id', '=', groupId)
    .where('access_id', '=', accessId)
    .$if(dialect === 'postgres', (qb) => qb.forUpdate())
    .executeTakeFirst();
  return row?.id;
}

function schedulesOf(db: Db, key: ScheduleKey) {
  return db
    .selectFrom('pim_schedules')
    .selectAll()
    .where('kind', '=', key.kind)
    .where('group_id', '=', key.groupId)
    .where('principal_id', '=', key.principalId)
    .where('access_id', '=', key.accessId);
}

/** Schedules of the key that are in effect now or will be: neither ended nor revoked. */
export function liveSchedules(db: Db, key: ScheduleKey, now: string): Promise<ScheduleRow[]> {
  return inEffectOrLater(schedulesOf(db, key), now).execute();
}

/**
 * `liveSchedules` of both kinds at once, the principal's eligibilities and assignments of the
 * group, in one read: an activation needs both.
 */
export function liveSchedulesOfBothKinds(
  db: Db,
  key: Omit<ScheduleKey, 'kind'>,
  now: string,
): Promise<ScheduleRow[]> {
  const schedules = db
    .selectFrom('pim_schedules')
    .selectAll()
    .where('principal_id', '=', key.principalId)
    .where('kind', 'in', ['eligibility', 'assignment'])
    .where('group_id', '=', key.groupId)
    .where('access_id', '=', key.accessId);
  return inEffectOrLater(schedules, now).execute();
}

function inEffectOrLater(schedules: ReturnType<typeof schedulesOf>, now: string) {
  return schedules
    .where('status', '=', 'Provisioned')
    .where((eb) => eb.or([eb('end_at', 'is', null), eb('end_at', '>', now)]))
    .orderBy('start_at');
}

/** The most recently ended schedule of the key that ran out (not one that was revoked). */
export function lastEndedSchedule(db: Db, key: ScheduleKey, now: string) {
  return schedulesOf(db, key)
    .where('status', 'in', ['Provisioned', 'Expired'])
    .where('end_at', '<=', now)
    .orderBy('end_at', 'desc')
    .executeTakeFirst();
}

export function findSchedule(db: Db, kind: ScheduleKind, id: string) {
  return db
    .selectFrom('pim_schedules')
    .selectAll()
    .where('kind', '=', kind)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function insertSchedule(db: Db, schedule: ScheduleRow): Promise<void> {
  await db.insertInto('pim_schedules').values(schedule).execute();
}

export async function updateSchedule(
  db: Db,
  id: string,
  changes: Partial<ScheduleRow>,
): Promise<void> {
  await db.updateTable('pim_schedules').set(changes).where('id', '=', id).execute();
}

/** Ends the schedule at `now`: it stops granting at once, and stays as history. */
export async function revokeSchedule(db: Db, id: string, now: string): Promise<void> {
  await db
    .updateTable('pim_schedules')
    .set({ status: 'Revoked', end_at: now, modified_at: now })
    .where('id', '=', id)
    .execute();
}

/** Activations made from an eligibility that are in effect now or will be. */
export function liveActivationsOf(db: Db, eligibilityId: string, now: string) {
  return db
    .selectFrom('pim_schedules')
    .selectAll()
    .where('kind', '=', 'assignment')
    .where('activated_using', '=', eligibilityId)
    .where('status', '=', 'Provisioned')
    .where((eb) => eb.or([eb('end_at', 'is', null), eb('end_at', '>', now)]))
    .execute();
}

export function pendingRequests(db: Db, key: ScheduleKey) {
  return db
    .selectFrom('pim_requests')
    .selectAll()
    .where('kind', '=', key.kind)
    .where('group_id', '=', key.groupId)
    .where('principal_id', '=', key.principalId)
    .where('access_id', '=', key.accessId)
    .where('status', 'in', PENDING_STATUSES)
    .execute();
}

export async function insertRequest(db: Db, request: RequestRow): Promise<void> {
  await db.insertInto('pim_requests').values(request).execute();
}

export function findRequest(db: Db, kind: ScheduleKind, id: string) {
  if (!isGuid(id)) return Promise.resolve(undefined);
  return db
    .selectFrom('pim_requests')
    .selectAll()
    .where('kind', '=', kind)
    .where('id', '=', id.toLowerCase())
    .executeTakeFirst();
}

/** Moves a request out of `from` only if it is still there: the loser of a race changes nothing. */
export async function transitionRequest(
  db: Db,
  id: string,
  from: readonly string[],
  changes: Partial<RequestRow>,
): Promise<boolean> {
  const result = await db
    .updateTable('pim_requests')
    .set(changes)
    .where('id', '=', id)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
