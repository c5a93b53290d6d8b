import type { Kysely } from 'kysely';
import { boundText, prepared } from '../db/prepared.js';
import type { Database, StoredApprover } from '../db/schema.js';
import { slices } from '../db/slices.js';
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

  /**
   * The group's owners now. With the Global and Privileged Role Administrators (`roleHolders`),
   * they are the group's admins.
   */
  owners(db: Db, groupId: string): Promise<string[]> {
    return this.access.principalIdsOf(groupId, 'owner', db);
  }

  /** The owners now of each of the groups, read together. */
  ownersOfGroups(db: Db, groupIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.access.principalIdsOfGroups(groupIds, 'owner', db);
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
 * The address of each user among `ids` whose account is enabled: `mail`, or the user principal
 * name when there is no mail. Ids of groups, deleted users and the like are left out.
 */
export async function addressBook(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const book = new Map<string, string>();
  for (const slice of slices(unique)) {
    const users = await db
      .selectFrom('users')
      .select(['id', 'mail', 'user_principal_name'])
      .where('id', 'in', slice)
      .where('account_enabled', '=', 1)
      .execute();
    for (const user of users) book.set(user.id, user.mail?.trim() || user.user_principal_name);
  }
  return book;
}

/**
 * The addresses of `ids` found in `book`, in the order of the ids. They are sorted here rather
 * than by the database, whose collation may differ, so that a list reads the same however the
 * book was read.
 */
export function addressesFrom(book: ReadonlyMap<string, string>, ids: readonly string[]): string[] {
  const unique = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return unique.flatMap((id) => {
    const address = book.get(id);
    return address === undefined ? [] : [address];
  });
}
