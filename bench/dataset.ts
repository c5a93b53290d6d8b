import { randomUUID } from 'node:crypto';
import { sql, type Insertable, type Kysely } from 'kysely';
import type { Db } from '../src/db/database.js';
import type { Database, PimRequestTable, PimScheduleTable } from '../src/db/schema.js';
import { RoleIds } from '../src/directory/roles.js';
import { defaultRules } from '../src/pim/policies/defaults.js';
import { policyIdFor } from '../src/pim/policies/ids.js';

/** How big the organisation is. The full size is the one the performance goals are set for. */
export interface DatasetSize {
  users: number;
  groups: number;
  /** Per user, each in a different group; users × this = eligibility schedules. */
  eligibilitiesPerUser: number;
  /** Active assignments (windows containing now), one per user and round. */
  assignments: number;
  /** Standing (non-PIM) memberships, one random group each. */
  standingMembers: number;
  /** Schedules whose end is past but whose expiry the jobs have not handled yet. */
  overdue: number;
}

export const FULL_SIZE: DatasetSize = {
  users: 100_000,
  groups: 5_000,
  eligibilitiesPerUser: 10,
  assignments: 100_000,
  standingMembers: 20_000,
  overdue: 100_000,
};

/** Everything divided by 20, so that a quick run ends in under two minutes. */
export const QUICK_SIZE: DatasetSize = {
  users: FULL_SIZE.users / 20,
  groups: FULL_SIZE.groups / 20,
  eligibilitiesPerUser: FULL_SIZE.eligibilitiesPerUser,
  assignments: FULL_SIZE.assignments / 20,
  standingMembers: FULL_SIZE.standingMembers / 20,
  overdue: FULL_SIZE.overdue / 20,
};

/** Roles the groups hold. The administrators' roles stay with the bootstrap admin. */
const GROUP_ROLES = [
  RoleIds.userAdministrator,
  RoleIds.groupsAdministrator,
  RoleIds.exchangeAdministrator,
  RoleIds.officeAppsAdministrator,
  RoleIds.teamsAdministrator,
  RoleIds.searchAdministrator,
  RoleIds.sharePointAdministrator,
  RoleIds.securityAdministrator,
  RoleIds.helpdeskAdministrator,
  RoleIds.securityReader,
];

/** Eligibility slots: 0 carries the user's active assignment, 1 is left for activations. */
export const ASSIGNED_SLOT = 0;
export const ACTIVATION_SLOT = 1;
const OVERDUE_SLOT = 2;

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** What the measurements need to know about the data, without holding a million rows. */
export interface Dataset {
  size: DatasetSize;
  /** The moment every window was laid around. */
  now: number;
  userIds: string[];
  groupIds: string[];
  /** Group index of user u's eligibility slot s, at `u * eligibilitiesPerUser + s`. */
  eligibleGroup: Int32Array;
  /** Rows written, by table. */
  rows: Record<string, number>;
  seconds: number;
}

/**
 * Fills an empty, migrated database with a synthetic organisation, in large multi-row inserts
 * inside transactions. The generator is seeded, so two runs build the same shape.
 */
export async function buildDataset(
  db: Db,
  size: DatasetSize,
  log: (line: string) => void,
): Promise<Dataset> {
  const started = performance.now();
  const random = seeded(20240601);
  const now = Date.now();
  const at = (ms: number) => new Date(ms).toISOString();
  const rows: Record<string, number> = {};

  const userIds: string[] = Array.from({ length: size.users }, () => randomUUID());
  const groupIds: string[] = Array.from({ length: size.groups }, () => randomUUID());

  await db.kysely.transaction().execute(async (trx) => {
    const created = at(now - 400 * DAY);
    for (let from = 0; from < size.users; from += 20_000) {
      const slice = userIds.slice(from, from + 20_000).map((id, i) => ({
        id,
        display_name: `Bench User ${from + i}`,
        user_principal_name: `bench.user${from + i}@elevate.local`,
        mail: `bench.user${from + i}@elevate.local`,
        user_type: 'Member' as const,
        account_enabled: 1,
        password_hash: null,
        created_at: created,
      }));
      rows.users = (rows.users ?? 0) + slice.length;
      await insertBatched(trx, 'users', slice);
    }

    rows.groups = groupIds.length;
    await insertBatched(
      trx,
      'groups',
      groupIds.map((id, g) => ({
        id,
        display_name: `Bench Group ${g}`,
        mail_nickname: `benchgroup${g}`,
        description: 'A role-assignable group of the benchmark',
        security_enabled: 1,
        mail_enabled: 0,
        is_assignable_to_role: 1,
        created_at: created,
      })),
    );

    // Two roles per group, and a few users who hold a role directly.
    const roleAssignments: Insertable<Database['role_assignments']>[] = groupIds.flatMap(
      (groupId, g) =>
        [0, 1].map((k) => ({
          id: randomUUID(),
          role_definition_id: GROUP_ROLES[(g + k * 3) % GROUP_ROLES.length] ?? RoleIds.globalReader,
          principal_id: groupId,
          directory_scope_id: '/',
          created_at: created,
        })),
    );
    for (let u = 0; u < size.users; u += 100) {
      roleAssignments.push({
        id: randomUUID(),
        role_definition_id: RoleIds.globalReader,
        principal_id: userIds[u] ?? '',
        directory_scope_id: '/',
        created_at: created,
      });
    }
    rows.role_assignments = roleAssignments.length;
    await insertBatched(trx, 'role_assignments', roleAssignments);

    const members = Array.from({ length: size.standingMembers }, (_, i) => ({
      group_id: groupIds[Math.floor(random() * size.groups)] ?? '',
      principal_id: userIds[(i * 7) % size.users] ?? '',
      relationship: 'member' as const,
      created_at: created,
    }));
    const unique = new Map(members.map((m) => [`${m.group_id}/${m.principal_id}`, m]));
    rows.group_members = unique.size;
    await insertBatched(trx, 'group_members', [...unique.values()]);

    // Every group is onboarded to PIM with the default policies, as its first request did.
    const policies = groupIds.flatMap((groupId) =>
      (['member', 'owner'] as const).map((accessId) => ({
        id: policyIdFor(groupId, accessId),
        group_id: groupId,
        access_id: accessId,
        last_modified_at: null,
        last_modified_by: null,
      })),
    );
    rows.pim_policies = policies.length;
    await insertBatched(trx, 'pim_policies', policies);
    const rules = defaultRules().map((rule) => ({ rule_id: rule.id, rule: JSON.stringify(rule) }));
    const policyRules = policies.flatMap((p) => rules.map((r) => ({ policy_id: p.id, ...r })));
    rows.pim_policy_rules = policyRules.length;
    await insertBatched(trx, 'pim_policy_rules', policyRules);

    // The jobs are up to date, as on a system that has been running: nothing is due.
    await trx
      .updateTable('job_cursors')
      .set({ through: at(now) })
      .execute();
  });
  log(`  directory: ${size.users} users, ${size.groups} groups`);

  // Eligibility: each user in `eligibilitiesPerUser` distinct groups, mostly as member.
  const perUser = size.eligibilitiesPerUser;
  const eligibleGroup = new Int32Array(size.users * perUser);
  const eligibilityIds = new Map<number, string>();
  for (let u = 0; u < size.users; u += 1) {
    const chosen = new Set<number>();
    while (chosen.size < perUser) chosen.add(Math.floor(random() * size.groups));
    let s = 0;
    for (const g of chosen) eligibleGroup[u * perUser + s++] = g;
  }

  const chunkUsers = Math.max(1, Math.floor(50_000 / perUser));
  for (let from = 0; from < size.users; from += chunkUsers) {
    const schedules: Insertable<PimScheduleTable>[] = [];
    const requests: Insertable<PimRequestTable>[] = [];
    for (let u = from; u < Math.min(size.users, from + chunkUsers); u += 1) {
      for (let s = 0; s < perUser; s += 1) {
        const groupId = groupIds[eligibleGroup[u * perUser + s] ?? 0] ?? '';
        const accessId = s <= OVERDUE_SLOT || random() < 0.9 ? 'member' : 'owner';
        const start = now - Math.floor(random() * 180 * DAY) - DAY;
        const end = now + 200 * DAY + Math.floor(random() * 160 * DAY);
        const made = madeBy(groupId, accessId, 'eligibility', 'adminAssign', start, end);
        if (s === ASSIGNED_SLOT || s === OVERDUE_SLOT) eligibilityIds.set(u * perUser + s, made.id);
        schedules.push(schedule(made, userIds[u] ?? '', null, 'Provisioned'));
        requests.push(request(made, userIds[u] ?? '', userIds[0] ?? ''));
      }
    }
    await db.kysely.transaction().execute(async (trx) => {
      rows.pim_schedules = (rows.pim_schedules ?? 0) + schedules.length;
      rows.pim_requests = (rows.pim_requests ?? 0) + requests.length;
      await insertBatched(trx, 'pim_schedules', schedules);
      await insertBatched(trx, 'pim_requests', requests);
    });
    if ((from / chunkUsers) % 20 === 19) log(`  eligibility: ${rows.pim_schedules} rows`);
  }
  log(`  eligibility: ${rows.pim_schedules} schedules`);

  // Active assignments on slot 0: most activated from that eligibility, some assigned.
  for (let from = 0; from < size.assignments; from += 50_000) {
    const schedules: Insertable<PimScheduleTable>[] = [];
    const requests: Insertable<PimRequestTable>[] = [];
    for (let i = from; i < Math.min(size.assignments, from + 50_000); i += 1) {
      const u = i % size.users;
      const groupId = groupIds[eligibleGroup[u * perUser + ASSIGNED_SLOT] ?? 0] ?? '';
      const activated = random() < 0.8;
      const start = activated ? now - Math.floor(random() * 4 * HOUR) : now - 30 * DAY;
      const end = activated
        ? now + HOUR + Math.floor(random() * 3 * HOUR)
        : now + 30 * DAY + Math.floor(random() * 120 * DAY);
      const action = activated ? 'selfActivate' : 'adminAssign';
      const made = madeBy(groupId, 'member', 'assignment', action, start, end);
      const using = activated ? (eligibilityIds.get(u * perUser + ASSIGNED_SLOT) ?? null) : null;
      schedules.push({
        ...schedule(made, userIds[u] ?? '', activated ? 'activated' : 'assigned', 'Provisioned'),
        activated_using: using,
      });
      requests.push(request(made, userIds[u] ?? '', activated ? (userIds[u] ?? '') : ''));
    }
    await db.kysely.transaction().execute(async (trx) => {
      rows.pim_schedules = (rows.pim_schedules ?? 0) + schedules.length;
      rows.pim_requests = (rows.pim_requests ?? 0) + requests.length;
      await insertBatched(trx, 'pim_schedules', schedules);
      await insertBatched(trx, 'pim_requests', requests);
    });
  }
  log(`  assignments: ${size.assignments} active`);

  await analyze(db);

  /** A request and the schedule it made share their ids, as the request engine writes them. */
  function madeBy(
    groupId: string,
    accessId: 'member' | 'owner',
    kind: 'eligibility' | 'assignment',
    action: string,
    start: number,
    end: number,
  ) {
    const requestId = randomUUID();
    return {
      id: `${groupId}_${accessId}_${requestId}`,
      requestId,
      groupId,
      accessId,
      kind,
      action,
      start: at(start),
      end: at(end),
    };
  }

  function schedule(
    made: ReturnType<typeof madeBy>,
    principalId: string,
    assignmentType: 'activated' | 'assigned' | null,
    status: string,
  ): Insertable<PimScheduleTable> {
    return {
      id: made.id,
      kind: made.kind,
      group_id: made.groupId,
      principal_id: principalId,
      access_id: made.accessId,
      assignment_type: assignmentType,
      member_type: 'direct',
      status,
      start_at: made.start,
      end_at: made.end,
      expiration_type: 'afterDateTime',
      created_using: made.requestId,
      activated_using: null,
      activation_settings:
        made.kind === 'eligibility'
          ? '{"isMfaRequired":null,"notificationLevel":null,"additionalRecipients":[]}'
          : null,
      created_at: made.start,
      modified_at: made.start,
    };
  }

  function request(
    made: ReturnType<typeof madeBy>,
    principalId: string,
    createdBy: string,
  ): Insertable<PimRequestTable> {
    return {
      id: made.requestId,
      kind: made.kind,
      action: made.action,
      status: 'Provisioned',
      group_id: made.groupId,
      principal_id: principalId,
      access_id: made.accessId,
      justification: 'Synthetic benchmark data',
      ticket_number: null,
      ticket_system: null,
      custom_data: null,
      start_at: made.start,
      expiration_type: 'afterDateTime',
      expiration_end: made.end,
      expiration_duration: null,
      activation_settings: null,
      created_by: createdBy || principalId,
      created_at: made.start,
      completed_at: made.start,
      approval_id: null,
      target_schedule_id: made.id,
    };
  }

  return {
    size,
    now,
    userIds,
    groupIds,
    eligibleGroup,
    rows,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Adds `overdue` schedules that ended in the past week but still read `Provisioned`, as after a
 * downtime: most are activations, the rest eligibilities, which also get an "ended" email.
 */
export async function addOverdue(db: Db, dataset: Dataset): Promise<number> {
  const random = seeded(7);
  const { size, userIds, groupIds, eligibleGroup } = dataset;
  const now = Date.now();
  const at = (ms: number) => new Date(ms).toISOString();
  let written = 0;

  for (let from = 0; from < size.overdue; from += 50_000) {
    const schedules: Insertable<PimScheduleTable>[] = [];
    for (let i = from; i < Math.min(size.overdue, from + 50_000); i += 1) {
      const u = i % size.users;
      const g = eligibleGroup[u * size.eligibilitiesPerUser + OVERDUE_SLOT] ?? 0;
      const groupId = groupIds[g] ?? '';
      const activation = random() < 0.7;
      const end = now - 60_000 - Math.floor(random() * 7 * DAY);
      const start = end - (activation ? 2 * HOUR : 200 * DAY);
      const requestId = randomUUID();
      schedules.push({
        id: `${groupId}_member_${requestId}`,
        kind: activation ? 'assignment' : 'eligibility',
        group_id: groupId,
        principal_id: userIds[u] ?? '',
        access_id: 'member',
        assignment_type: activation ? 'activated' : null,
        member_type: 'direct',
        status: 'Provisioned',
        start_at: at(start),
        end_at: at(end),
        expiration_type: 'afterDateTime',
        created_using: requestId,
        activated_using: null,
        activation_settings: null,
        created_at: at(start),
        modified_at: at(start),
      });
    }
    await db.kysely.transaction().execute(async (trx) => {
      await insertBatched(trx, 'pim_schedules', schedules);
    });
    written += schedules.length;
  }
  await analyze(db);
  return written;
}

/** Multi-row inserts sized to stay under both dialects' limits on bound parameters. */
async function insertBatched<T extends keyof Database>(
  db: Kysely<Database>,
  table: T,
  values: Insertable<Database[T]>[],
): Promise<void> {
  const first = values[0];
  if (!first) return;
  const perStatement = Math.max(1, Math.floor(30_000 / Object.keys(first).length));
  for (let from = 0; from < values.length; from += perStatement) {
    await db
      .insertInto(table)
      .values(values.slice(from, from + perStatement))
      .execute();
  }
}

/** Fresh statistics, so that both planners see the tables as they now are. */
async function analyze(db: Db): Promise<void> {
  await sql`analyze`.execute(db.kysely);
}

/** A small, fast, seeded generator (mulberry32): the same data on every run. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
