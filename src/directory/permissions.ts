import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Caller } from '../http/caller.js';
import { forbidden } from '../http/errors.js';
import type { AccessService } from './access.js';
import { RoleIds } from './roles.js';
import { isPrivilegedUser, type GroupRow, type UserRow } from './store.js';

const ADMINS = [RoleIds.globalAdministrator, RoleIds.privilegedRoleAdministrator];
const READERS = [...ADMINS, RoleIds.globalReader];

/**
 * Who may change what in the directory. Every check reads the caller's roles as they are now,
 * so a role that ended a millisecond ago no longer counts.
 */
export class DirectoryPermissions {
  constructor(private readonly access: AccessService) {}

  isAdmin(caller: Caller, db?: Kysely<Database>): Promise<boolean> {
    return this.access.hasAnyRole(caller.userId, ADMINS, db);
  }

  isReader(caller: Caller): Promise<boolean> {
    return this.access.hasAnyRole(caller.userId, READERS);
  }

  async requireAdmin(caller: Caller, db?: Kysely<Database>): Promise<void> {
    if (!(await this.isAdmin(caller, db))) {
      throw forbidden('Only a Global or Privileged Role Administrator may do this.');
    }
  }

  async requireReader(caller: Caller): Promise<void> {
    if (!(await this.isReader(caller))) {
      throw forbidden('Only administrators and Global Readers may read this.');
    }
  }

  /**
   * A User Administrator manages users, except those who hold a role or a PIM assignment: taking
   * over such an account (by resetting its password, say) would be a path to their privileges.
   */
  async requireUserManager(caller: Caller, db: Kysely<Database>, target?: UserRow) {
    if (await this.isAdmin(caller, db)) return;

    const userAdmin = await this.access.hasAnyRole(caller.userId, [RoleIds.userAdministrator], db);
    if (!userAdmin) throw forbidden('Only a User Administrator or above may manage users.');
    if (target && (await isPrivilegedUser(db, target.id))) {
      throw forbidden(
        'This user holds roles or PIM assignments; only a Global or Privileged Role ' +
          'Administrator may change it.',
      );
    }
  }

  /** Groups Administrators manage groups that cannot hold roles; admins manage every group. */
  async requireGroupManager(caller: Caller, db: Kysely<Database>, roleAssignable: boolean) {
    if (await this.isAdmin(caller, db)) return;

    const groupsAdmin = await this.access.hasAnyRole(
      caller.userId,
      [RoleIds.groupsAdministrator],
      db,
    );
    if (!groupsAdmin || roleAssignable) {
      throw forbidden(
        roleAssignable
          ? 'Only a Global or Privileged Role Administrator may manage a role-assignable group.'
          : 'Only a Groups Administrator or above may manage groups.',
      );
    }
  }

  /**
   * Standing members of a group: its managers, and its active owners when the group holds no
   * roles. An owner of a role-assignable group could otherwise grant roles to anyone.
   */
  async requireMemberManager(caller: Caller, db: Kysely<Database>, group: GroupRow) {
    const roleAssignable = group.is_assignable_to_role === 1;
    if (!roleAssignable && (await this.access.isInGroup(caller.userId, group.id, 'owner', db))) {
      return;
    }
    await this.requireGroupManager(caller, db, roleAssignable);
  }

  /** Guests see only themselves and the groups they belong to, as in Entra. */
  async requireMemberUser(caller: Caller, db: Kysely<Database>): Promise<void> {
    const row = await db
      .selectFrom('users')
      .select('user_type')
      .where('id', '=', caller.userId)
      .executeTakeFirst();
    if (row?.user_type !== 'Member') {
      throw forbidden('Guests cannot list the directory.');
    }
  }
}
