import type { Kysely } from 'kysely';
import { boundText, prepared } from '../db/prepared.js';
import type { Database, StoredApprover } from '../db/schema.js';
import type { AccessService } from '../directory/access.js';
import { RoleIds } from '../directory/roles.js';

type Db = Kysely<Database>;

/** Global and Privileged Role Administrators: every group's admins, and extension approvers. */
const ADMIN_ROLES = [RoleIds.globalAdministrator, RoleIds.privilegedRoleAdministrator];

/**
 * Works out who is emailed, as user ids, from who holds what now. Membership and roles count
 * exactly as they do for access: through PIM assignments in effect and through groups.
 */
export class Recipients {
  constructor(private readonly access: AccessService) {}

  /** The group's owners now, and the Global and Privileged Role Administrators now. */
  async admins(db: Db, groupId: string): Promise<string[]> {
    const owners = await this.access.principalIdsOf(groupId, 'owner', db);
    return [...owners, ...(await this.roleHolders(db))];
  }

  /** The Global and Privileged Role Administrators now, directly or through a group. */
  async roleHolders(db: Db): Promise<string[]> {
    const { rows } = await adminRoleHolders(db, {});

    const ids: string[] = [];
    for (const { principal_id: principalId, group_id: groupId } of rows) {
      ids.push(principalId);
      // A role given to a group reaches its members now; a user has no members to look up.
      if (groupId !== null) ids.push(...(await this.access.principalIdsOf(groupId, 'member', db)));
    }
    return ids;
  }

  /** The people who may decide a stage now: named users, members of named groups, or admins. */
  async approvers(db: Db, approvers: readonly StoredApprover[]): Promise<string[]> {
    const ids: string[] = [];
    for (const approver of approvers) {
      if (approver.kind === 'user') ids.push(approver.userId);
      if (approver.kind === 'group') {
        ids.push(...(await this.access.principalIdsOf(approver.groupId, 'member', db)));
      }
      if (approver.kind === 'administrators') ids.push(...(await this.roleHolders(db)));
    }
    return ids;
  }
}

const adminRoleHolders = prepared<object, { principal_id: string; group_id: string | null }>((db) =>
  db
    .selectFrom('role_assignments')
    .leftJoin('groups', 'groups.id', 'role_assignments.principal_id')
    .select(['role_assignments.principal_id', 'groups.id as group_id'])
    // Even values that never change are bound, and so need boundText to be planned only once.
    .where('role_assignments.role_definition_id', 'in', ADMIN_ROLES.map(boundText)),
);

/**
 * The addresses of the users among `ids` whose accounts are enabled: `mail`, or the user
 * principal name when there is no mail. Ids of groups, deleted users and the like are dropped.
 */
export async function addressesOf(db: Db, ids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];

  const users = await db
    .selectFrom('users')
    .select(['mail', 'user_principal_name'])
    .where('id', 'in', unique)
    .where('account_enabled', '=', 1)
    .execute();
  return users.map((user) => user.mail?.trim() || user.user_principal_name);
}
