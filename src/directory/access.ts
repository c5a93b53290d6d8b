import type { Kysely } from 'kysely';
import type { AccessId, Database } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { boundText } from '../http/odata.js';
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
  groupIdsOf(principalId: string, relationship: AccessId = 'member', db = this.db) {
    return groupIdsOfQuery(db, principalId, relationship, this.clock.now().toISOString());
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

  async isInGroup(principalId: string, groupId: string, relationship: AccessId, db = this.db) {
    const ids = await this.groupIdsOf(principalId, relationship, db);
    return ids.includes(groupId);
  }

  /** Role definition ids held by the user now, directly or through a group it belongs to now. */
  async roleIdsOf(userId: string, db = this.db): Promise<Set<string>> {
    const rows = await db
      .selectFrom('role_assignments')
      .select('role_definition_id')
      .where('principal_id', 'in', this.rolePrincipalsOf(userId, db))
      .execute();
    return new Set(rows.map((r) => r.role_definition_id));
  }

  /**
   * The ids whose role assignments reach the principal now: its own and those of the groups it
   * is a member of now, as a subquery to put after `principal_id in`. As one list, each is looked
   * up in the role assignments' index: written as `principal_id = ? or principal_id in (...)`,
   * PostgreSQL read them all.
   */
  rolePrincipalsOf(principalId: string, db = this.db) {
    const now = this.clock.now().toISOString();
    return groupIdsOfSubquery(db, principalId, 'member', now).union(
      db.selectNoFrom(() => boundText(principalId).as('group_id')),
    );
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
    .union(
      assignmentsInEffect(db, relationship, now)
        .select('group_id')
        .where('principal_id', '=', boundText(principalId)),
    );
}

async function groupIdsOfQuery(
  db: Kysely<Database>,
  principalId: string,
  relationship: AccessId,
  now: string,
): Promise<string[]> {
  const rows = await groupIdsOfSubquery(db, principalId, relationship, now).execute();
  return rows.map((r) => r.group_id);
}
