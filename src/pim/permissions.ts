import type { Kysely } from 'kysely';
import type { AccessId, Database } from '../db/schema.js';
import type { AccessService } from '../directory/access.js';
import { RoleIds } from '../directory/roles.js';
import type { GroupRow } from '../directory/store.js';
import type { Caller } from '../http/caller.js';
import { forbidden } from '../http/errors.js';

const ADMINS = [RoleIds.globalAdministrator, RoleIds.privilegedRoleAdministrator];
const READERS = [...ADMINS, RoleIds.globalReader];

/**
 * Who may manage and read a group's PIM assignments, decided from roles and ownership as they are
 * at this moment.
 */
export class PimPermissions {
  constructor(private readonly access: AccessService) {}

  isAdmin(caller: Caller, db?: Kysely<Database>): Promise<boolean> {
    return this.access.hasAnyRole(caller.userId, ADMINS, db);
  }

  /**
   * Global and Privileged Role Administrators manage every group; Groups Administrators manage
   * groups that hold no roles; an active owner manages the group's member assignments.
   */
  async canManage(caller: Caller, group: GroupRow, accessId: AccessId, db?: Kysely<Database>) {
    const roles = await this.access.roleIdsOf(caller.userId, db);
    if (ADMINS.some((id) => roles.has(id))) return true;
    if (roles.has(RoleIds.groupsAdministrator) && group.is_assignable_to_role !== 1) return true;
    return accessId === 'member' && this.access.isInGroup(caller.userId, group.id, 'owner', db);
  }

  /**
   * An owner who is not an administrator may not assign itself: otherwise ownership alone would
   * bypass the member policy's approval and limits.
   */
  async requireManager(
    caller: Caller,
    group: GroupRow,
    accessId: AccessId,
    principalId: string,
    db?: Kysely<Database>,
  ): Promise<void> {
    if (!(await this.canManage(caller, group, accessId, db))) {
      throw forbidden(`You may not manage ${accessId} assignments of this group.`);
    }
    if (principalId === caller.userId && !(await this.isAdmin(caller, db))) {
      throw forbidden('Group owners cannot assign themselves; ask an administrator.');
    }
  }

  /** Readers of every group's assignments, besides each group's own managers. */
  async canRead(caller: Caller, group: GroupRow | null, db?: Kysely<Database>) {
    if (await this.access.hasAnyRole(caller.userId, READERS, db)) return true;
    if (!group) return false;
    return this.canManage(caller, group, 'member', db);
  }
}
