import type { Kysely } from 'kysely';
import { boundText, prepared } from '../db/prepared.js';
import { slices } from '../db/slices.js';
import type { AccessId, Database } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { RoleIds } from './roles.js';

/**
 * Answers "who has what, now". Membership is the union of standing (direct) membership and PIM
 * assignments whose window contains the present moment, so an assignment stops counting at its
 * end to the millisecond, whether or not any background job has run since.
 */
export class AccessService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** The groups the principal belongs to now, as `relationship`. */
  async groupIdsOf(
    principalId: string,
    relationship: AccessId = 'member',
    db = this.db,
  ): Promise<string[]> {
    const now = this.clock.now().toISOString();
    const { rows } = await groupIdsStatement(db, { principalId, relationship, now });
    return distinctGroupIds(rows);
  }

  /** The principals that belong to the group now, as `relationship`. */
  async principalIdsOf(groupId: string, relationship: AccessId, db = this.db): Promise<string[]> {
    const now = this.clock.now().toISOString();
    const rows = await db
      .selectFrom('group_members')
      .select('principal_id')
      .where('group_id', '=', boundText(groupId))
      .where('relationship', '=', boundText(relationship))
      .union(
        assignmentsInEffect(db, relationship, now)
          .select('principal_id')
          .where('group_id', '=', boundText(groupId)),
      )
      .execute();
    return rows.map((r) => r.principal_id);
  }

  /**
   * The principals that belong to each of the groups now, as `relationship`, in one query: for
   * work about many groups at once, such as a jobs batch.
   */
  async principalIdsOfGroups(
    groupIds: readonly string[],
    relationship: AccessId,
    db = this.db,
  ): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(groupIds.map((id) => [id, []]));
    const now = this.clock.now().toISOString();
    for (const slice of slices(groupIds)) {
      const rows = await db
        .selectFrom('group_members')
        .select(['group_id', 'principal_id'])
        .where('group_id', 'in', slice)
        .where('relationship', '=', relationship)
        .union(
          assignmentsInEffect(db, relationship, now)
            .select(['group_id', 'principal_id'])
            .where('group_id', 'in', slice),
        )
        .execute();
      for (const row of rows) found.get(row.group_id)?.push(row.principal_id);
    }
    return found;
  }

  async isInGroup(principalId: string, groupId: string, relationship: AccessId, db = this.db) {
    const ids = await this.groupIdsOf(principalId, relationship, db);
    return ids.includes(groupId);
  }

  /** Role definition ids held by the user now, directly or through a group it belongs to now. */
  async roleIdsOf(userId: string, db = this.db): Promise<Set<string>> {
    const now = this.clock.now().toISOString();
    const { rows } = await roleIdsStatement(db, { principalId: userId, now });
    return new Set(rows.map((r) => r.role_definition_id));
  }

  /**
   * The ids whose role assignments reach the principal now: its own and those of the groups it
   * is a member of now.
   */
  async rolePrincipalIdsOf(principalId: string, db = this.db): Promise<string[]> {
    const now = this.clock.now().toISOString();
    const { rows } = await rolePrincipalsStatement(db, { principalId, now });
    return distinctGroupIds(rows);
  }

  async hasAnyRole(userId: string, roleIds: readonly string[], db = this.db): Promise<boolean> {
    const held = await this.roleIdsOf(userId, db);
    return roleIds.some((id) => held.has(id));
  }

  /** Global and Privileged Role Administrators manage every group's PIM settings. */
  isPrivilegedRoleAdmin(userId: string, db = this.db): Promise<boolean> {
    return this.hasAnyRole(
      userId,
      [RoleIds.globalAdministrator, RoleIds.privilegedRoleAdministrator],
      db,
    );
  }
}

/**
 * PIM assignments in effect at `now`: the one condition that decides whether an assignment
 * grants access, checked on every read so that nothing waits for a background job.
 */
function assignmentsInEffect(db: Kysely<Database>, relationship: AccessId, now: string) {
  return db
    .selectFrom('pim_schedules')
    .where('kind', '=', boundText('assignment'))
    .where('access_id', '=', boundText(relationship))
    .where('status', '=', boundText('Provisioned'))
    .where('start_at', '<=', boundText(now))
    .where((eb) => eb.or([eb('end_at', 'is', null), eb('end_at', '>', boundText(now))]));
}

/**
 * A principal can be a standing member of a group and hold an assignment to it at once, so a
 * group may come twice. `union all` spares SQLite sorting both halves to drop such doubles on
 * every check; `in (...)` ignores them, and lists are made distinct once read.
 */
function groupIdsOfSubquery(
  db: Kysely<Database>,
  principalId: string,
  relationship: AccessId,
  now: string,
) {
  return db
    .selectFrom('group_members')
    .select('group_id')
    .where('principal_id', '=', boundText(principalId))
    .where('relationship', '=', boundText(relationship))
    .unionAll(
      assignmentsInEffect(db, relationship, now)
        .select('group_id')
        .where('principal_id', '=', boundText(principalId)),
    );
}

/**
 * The principal itself and the groups it is a member of now: whoever a role assignment must be
 * made to for the principal to hold the role now. As one list, each is looked up in the role
 * assignments' index: written as `principal_id = ? or principal_id in (...)`, PostgreSQL read them
 * all.
 */
function rolePrincipalsSubquery(db: Kysely<Database>, principalId: string, now: string) {
  return groupIdsOfSubquery(db, principalId, 'member', now).unionAll(
    db.selectNoFrom(() => boundText(principalId).as('group_id')),
  );
}

function distinctGroupIds(rows: readonly { group_id: string }[]): string[] {
  return [...new Set(rows.map((r) => r.group_id))];
}

// The statements behind every access check, compiled once.
interface PrincipalAt {
  principalId: string;
  now: string;
}

const groupIdsStatement = prepared<PrincipalAt & { relationship: AccessId }, { group_id: string }>(
  (db, arg) => groupIdsOfSubquery(db, arg('principalId'), arg('relationship'), arg('now')),
);

const rolePrincipalsStatement = prepared<PrincipalAt, { group_id: string }>((db, arg) =>
  rolePrincipalsSubquery(db, arg('principalId'), arg('now')),
);

const roleIdsStatement = prepared<PrincipalAt, { role_definition_id: string }>((db, arg) =>
  db
    .selectFrom('role_assignments')
    .select('role_definition_id')
    .where('principal_id', 'in', rolePrincipalsSubquery(db, arg('principalId'), arg('now'))),
);
