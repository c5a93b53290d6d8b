import type { Kysely } from 'kysely';
import type { DialectName } from '../db/database.js';
import type { AccessId, Database, ScheduleKind } from '../db/schema.js';
import { isGuid } from '../shared/ids.js';
import { boundText, prepared, preparedInsert } from '../db/prepared.js';
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
 * Takes the same lock as `lockGroupAccess` and answers the id of the group's policy, or undefined
 * while the group is not onboarded: a request reads that row anyway, so one query does both.
 */
export async function lockPolicy(
  db: Db,
  dialect: DialectName,
  groupId: string,
  accessId: AccessId,
): Promise<string | undefined> {
  const read = dialect === 'postgres' ? lockedPolicyRow : policyRow;
  const { rows } = await read(db, { groupId, accessId });
  return rows[0]?.id;
}

// Statements that every request runs bind their values with boundText, which says why.
const policyRowQuery = (db: Db, groupId: string, accessId: AccessId) =>
  db
    .selectFrom('pim_policies')
    .select('id')
    .where('group_id', '=', boundText(groupId))
    .where('access_id', '=', boundText(accessId));
const policyRow = prepared<{ groupId: string; accessId: AccessId }, { id: string }>((db, arg) =>
  policyRowQuery(db, arg('groupId'), arg('accessId')),
);
const lockedPolicyRow = prepared<{ groupId: string; accessId: AccessId }, { id: string }>(
  (db, arg) => policyRowQuery(db, arg('groupId'), arg('accessId')).forUpdate(),
);

function schedulesOf(db: Db, key: ScheduleKey) {
  return db
    .selectFrom('pim_schedules')
    .selectAll()
    .where('kind', '=', boundText(key.kind))
    .where('group_id', '=', boundText(key.groupId))
    .where('principal_id', '=', boundText(key.principalId))
    .where('access_id', '=', boundText(key.accessId));
}

/** Schedules of the key that are in effect now or will be: neither ended nor revoked. */
export function liveSchedules(db: Db, key: ScheduleKey, now: string): Promise<ScheduleRow[]> {
  return inEffectOrLater(schedulesOf(db, key), now).execute();
}

/**
 * `liveSchedules` of both kinds at once, the principal's eligibilities and assignments of the
 * group, in one read: an activation needs both.
 */
export async function liveSchedulesOfBothKinds(
  db: Db,
  key: Omit<ScheduleKey, 'kind'>,
  now: string,
): Promise<ScheduleRow[]> {
  return (await liveOfBothKinds(db, { ...key, now })).rows;
}

const liveOfBothKinds = prepared<Omit<ScheduleKey, 'kind'> & { now: string }, ScheduleRow>(
  (db, arg) => {
    const schedules = db
      .selectFrom('pim_schedules')
      .selectAll()
      .where('principal_id', '=', boundText(arg('principalId')))
      .where('kind', 'in', [boundText('eligibility'), boundText('assignment')])
      .where('group_id', '=', boundText(arg('groupId')))
      .where('access_id', '=', boundText(arg('accessId')));
    return inEffectOrLater(schedules, arg('now'));
  },
);

function inEffectOrLater(schedules: ReturnType<typeof schedulesOf>, now: string) {
  return schedules
    .where('status', '=', boundText('Provisioned'))
    .where((eb) => eb.or([eb('end_at', 'is', null), eb('end_at', '>', boundText(now))]))
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

export const insertSchedule: (db: Db, schedule: ScheduleRow) => Promise<void> =
  preparedInsert('pim_schedules');

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

export async function pendingRequests(db: Db, key: ScheduleKey): Promise<RequestRow[]> {
  return (await pendingOf(db, key)).rows;
}

const pendingOf = prepared<ScheduleKey, RequestRow>((db, arg) =>
  db
    .selectFrom('pim_requests')
    .selectAll()
    .where('kind', '=', boundText(arg('kind')))
    .where('group_id', '=', boundText(arg('groupId')))
    .where('principal_id', '=', boundText(arg('principalId')))
    .where('access_id', '=', boundText(arg('accessId')))
    .where('status', 'in', PENDING_STATUSES.map(boundText)),
);

export const insertRequest: (db: Db, request: RequestRow) => Promise<void> =
  preparedInsert('pim_requests');

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
