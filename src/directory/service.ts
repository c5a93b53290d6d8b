import type { Kysely } from 'kysely';
import type { Actor, AuditEvent, AuditLog, AuditTarget } from '../audit/audit-log.js';
import type { Db } from '../db/database.js';
import type { AccessId, Database } from '../db/schema.js';
import type { Caller } from '../http/caller.js';
import { badRequest, forbidden } from '../http/errors.js';
import type { ODataQuery, Page } from '../http/odata.js';
import { hashPassword, passwordProblem } from '../identity/passwords.js';
import type { Clock } from '../shared/clock.js';
import { isGuid, newId } from '../shared/ids.js';
import type { AccessService } from './access.js';
import { takeEquality } from './collections.js';
import { DirectoryErrors } from './errors.js';
import type { DirectoryPermissions } from './permissions.js';
import { BUILT_IN_ROLES, RoleIds } from './roles.js';
import type {
  CreateGroupBody,
  CreateRoleAssignmentBody,
  CreateUserBody,
  UpdateGroupBody,
  UpdateUserBody,
} from './schema.js';
import * as store from './store.js';
import type { GroupRow, RoleAssignmentRow, UserRow } from './store.js';

const MAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const MAIL_NICKNAME = /^[A-Za-z0-9._-]+$/;

/** Acting on someone requires being someone: every change is made by an authenticated caller. */
export type CallerActor = Actor & { caller: Caller };

/**
 * Users, groups, standing membership and role assignments. Each change is checked against the
 * caller's rights as they are now and written in one transaction with its audit event.
 */
export class DirectoryService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    readonly access: AccessService,
    readonly permissions: DirectoryPermissions,
    private readonly domain: string,
  ) {}

  // Users

  /** A user may read itself; reading others is for members, as in Entra. */
  async getUser(actor: CallerActor, idOrUpn: string): Promise<UserRow> {
    return this.readableUser(actor, idOrUpn);
  }

  /** Members read the directory; guests see only themselves, as in Entra. */
  async listUsers(actor: CallerActor, query: ODataQuery): Promise<Page<UserRow>> {
    await this.permissions.requireMemberUser(actor.caller, this.db.kysely);
    return store.listUsers(this.db.kysely, query);
  }

  async createUser(actor: CallerActor, body: CreateUserBody): Promise<UserRow> {
    await this.permissions.requireUserManager(actor.caller, this.db.kysely);

    const upn = body.userPrincipalName.trim().toLowerCase();
    const userType = parseUserType(body.userType ?? 'Member');
    this.checkUserPrincipalName(upn, userType);
    const mail = checkMail(body.mail);
    const password = body.passwordProfile?.password;
    if (password !== undefined) checkPassword(password);
    const passwordHash = password === undefined ? null : await hashPassword(password);

    return this.db.kysely.transaction().execute(async (trx) => {
      const user: UserRow = {
        id: newId(),
        display_name: checkDisplayName(body.displayName),
        user_principal_name: upn,
        mail,
        user_type: userType,
        account_enabled: body.accountEnabled === false ? 0 : 1,
        password_hash: passwordHash,
        created_at: this.now(),
      };
      // The unique index decides, so that two requests racing for one name cannot both win.
      if (!(await store.insertUserIfNew(trx, user))) {
        throw DirectoryErrors.userPrincipalNameTaken(upn);
      }
      await this.record(trx, actor, userEvent('Add user', 'Add', user));
      return user;
    });
  }

  async updateUser(actor: CallerActor, idOrUpn: string, body: UpdateUserBody): Promise<void> {
    await this.permissions.requireUserManager(actor.caller, this.db.kysely);

    const changes: Partial<UserRow> = {};
    if (body.displayName !== undefined) changes.display_name = checkDisplayName(body.displayName);
    if (body.mail !== undefined) changes.mail = checkMail(body.mail);
    if (body.userType !== undefined) changes.user_type = parseUserType(body.userType);
    if (body.accountEnabled !== undefined) changes.account_enabled = body.accountEnabled ? 1 : 0;
    if (body.passwordProfile !== undefined) {
      checkPassword(body.passwordProfile.password);
      changes.password_hash = await hashPassword(body.passwordProfile.password);
    }

    await this.db.kysely.transaction().execute(async (trx) => {
      const user = await store.findUser(trx, idOrUpn);
      if (!user) throw DirectoryErrors.userNotFound(idOrUpn);
      await this.permissions.requireUserManager(actor.caller, trx, user);
      if (changes.user_type === 'Member' && user.user_type === 'Guest') {
        this.checkUserPrincipalName(user.user_principal_name, 'Member');
      }

      await store.updateUser(trx, user.id, changes);
      const changed = Object.keys(body).filter((k) => k !== '@odata.type');
      await this.record(trx, actor, {
        ...userEvent('Update user', 'Update', user),
        details: { modifiedProperties: changed.join(', ') },
      });
      // A new password ends the portal sessions opened with the old one.
      if (changes.password_hash) await store.endSessionsOf(trx, user.id);
    });
  }

  async deleteUser(actor: CallerActor, idOrUpn: string): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      const user = await store.findUser(trx, idOrUpn);
      if (!user) throw DirectoryErrors.userNotFound(idOrUpn);
      await this.permissions.requireUserManager(actor.caller, trx, user);
      if (user.id === actor.caller.userId) {
        throw badRequest('You cannot delete your own account.');
      }

      await store.deleteUser(trx, user.id);
      await this.record(trx, actor, userEvent('Delete user', 'Delete', user));
    });
  }

  // Groups

  async getGroup(actor: CallerActor, id: string): Promise<GroupRow> {
    const group = await store.findGroup(this.db.kysely, id);
    if (!group) throw DirectoryErrors.groupNotFound(id);
    await this.requireGroupVisible(actor.caller, group);
    return group;
  }

  /** Members read every group; guests only the groups they belong to, one by one. */
  async listGroups(actor: CallerActor, query: ODataQuery): Promise<Page<GroupRow>> {
    await this.permissions.requireMemberUser(actor.caller, this.db.kysely);
    return store.listGroups(this.db.kysely, query);
  }

  async createGroup(actor: CallerActor, body: CreateGroupBody): Promise<GroupRow> {
    checkMailNickname(body.mailNickname);
    const roleAssignable = body.isAssignableToRole === true;
    if (roleAssignable && !body.securityEnabled) {
      throw badRequest('A role-assignable group must have securityEnabled set to true.');
    }

    return this.db.kysely.transaction().execute(async (trx) => {
      await this.permissions.requireGroupManager(actor.caller, trx, roleAssignable);

      const group: GroupRow = {
        id: newId(),
        display_name: checkDisplayName(body.displayName),
        mail_nickname: body.mailNickname,
        description: body.description ?? null,
        security_enabled: body.securityEnabled ? 1 : 0,
        mail_enabled: body.mailEnabled ? 1 : 0,
        is_assignable_to_role: roleAssignable ? 1 : 0,
        created_at: this.now(),
      };
      await store.insertGroup(trx, group);
      await this.record(trx, actor, groupEvent('Add group', 'Add', group));
      return group;
    });
  }

  async updateGroup(actor: CallerActor, id: string, body: UpdateGroupBody): Promise<void> {
    if (body.mailNickname !== undefined) checkMailNickname(body.mailNickname);

    await this.db.kysely.transaction().execute(async (trx) => {
      const group = await store.findGroup(trx, id);
      if (!group) throw DirectoryErrors.groupNotFound(id);
      await this.permissions.requireGroupManager(
        actor.caller,
        trx,
        group.is_assignable_to_role === 1,
      );
      if (
        body.isAssignableToRole !== undefined &&
        body.isAssignableToRole !== (group.is_assignable_to_role === 1)
      ) {
        throw badRequest('isAssignableToRole is set when a group is created and cannot change.');
      }
      if (group.is_assignable_to_role === 1 && body.securityEnabled === false) {
        throw badRequest('A role-assignable group must stay security-enabled.');
      }

      const changes: Partial<GroupRow> = {};
      if (body.displayName !== undefined) changes.display_name = checkDisplayName(body.displayName);
      if (body.mailNickname !== undefined) changes.mail_nickname = body.mailNickname;
      if (body.description !== undefined) changes.description = body.description;
      if (body.securityEnabled !== undefined) changes.security_enabled = +body.securityEnabled;
      if (body.mailEnabled !== undefined) changes.mail_enabled = +body.mailEnabled;

      await store.updateGroup(trx, group.id, changes);
      const changed = Object.keys(body).filter((k) => k !== '@odata.type');
      await this.record(trx, actor, {
        ...groupEvent('Update group', 'Update', group),
        details: { modifiedProperties: changed.join(', ') },
      });
    });
  }

  async deleteGroup(actor: CallerActor, id: string): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      const group = await store.findGroup(trx, id);
      if (!group) throw DirectoryErrors.groupNotFound(id);
      await this.permissions.requireGroupManager(
        actor.caller,
        trx,
        group.is_assignable_to_role === 1,
      );

      await store.deleteGroup(trx, group.id);
      await this.record(trx, actor, groupEvent('Delete group', 'Delete', group));
    });
  }

  // Membership

  /** Members or owners of the group now: standing ones and those of PIM assignments. */
  async listMembers(actor: CallerActor, groupId: string, relationship: AccessId) {
    const group = await this.getGroup(actor, groupId);
    const ids = await this.access.principalIdsOf(group.id, relationship);
    return store.usersByIds(this.db.kysely, ids);
  }

  async addMember(
    actor: CallerActor,
    groupId: string,
    relationship: AccessId,
    odataId: string,
  ): Promise<void> {
    const principalId = principalIdFromReference(odataId);

    await this.db.kysely.transaction().execute(async (trx) => {
      const group = await store.findGroup(trx, groupId);
      if (!group) throw DirectoryErrors.groupNotFound(groupId);
      await this.requireRelationshipManager(actor.caller, trx, group, relationship);

      const user = await store.findUser(trx, principalId);
      if (!user) {
        const isGroup = await store.findGroup(trx, principalId);
        if (isGroup) throw badRequest('Only users can be members or owners of a group.');
        throw DirectoryErrors.principalNotFound(principalId);
      }
      if (!(await store.addDirectMember(trx, group.id, user.id, relationship, this.now()))) {
        throw DirectoryErrors.alreadyMember(relationship);
      }
      await this.record(trx, actor, membershipEvent('Add', relationship, group, user));
    });
  }

  async removeMember(
    actor: CallerActor,
    groupId: string,
    relationship: AccessId,
    principalId: string,
  ): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      const group = await store.findGroup(trx, groupId);
      if (!group) throw DirectoryErrors.groupNotFound(groupId);
      await this.requireRelationshipManager(actor.caller, trx, group, relationship);

      const user = isGuid(principalId) ? await store.findUser(trx, principalId) : undefined;
      const removed =
        user && (await store.removeDirectMember(trx, group.id, user.id, relationship));
      if (!user || !removed) throw DirectoryErrors.notInGroup(principalId, relationship);
      await this.record(trx, actor, membershipEvent('Remove', relationship, group, user));
    });
  }

  /** The groups a user belongs to now; a user may ask about itself, members about anyone. */
  async transitiveMemberOf(actor: CallerActor, idOrUpn: string): Promise<GroupRow[]> {
    const user = await this.readableUser(actor, idOrUpn);

    const ids = await this.access.groupIdsOf(user.id, 'member');
    return store.groupsByIds(this.db.kysely, ids);
  }

  // Roles

  listRoleDefinitions() {
    return this.db.kysely
      .selectFrom('role_definitions')
      .selectAll()
      .orderBy('display_name')
      .execute();
  }

  async getRoleDefinition(id: string) {
    const role = await store.findRoleDefinition(this.db.kysely, id);
    if (!role) throw DirectoryErrors.roleDefinitionNotFound(id);
    return role;
  }

  async createRoleAssignment(
    actor: CallerActor,
    body: CreateRoleAssignmentBody,
  ): Promise<RoleAssignmentRow> {
    const scope = body.directoryScopeId ?? '/';
    if (scope !== '/') throw badRequest("directoryScopeId must be '/': only the directory scope.");

    return this.db.kysely.transaction().execute(async (trx) => {
      await this.permissions.requireAdmin(actor.caller, trx);

      const role = await store.findRoleDefinition(trx, body.roleDefinitionId);
      if (!role) throw DirectoryErrors.roleDefinitionNotFound(body.roleDefinitionId);
      const principal = await this.roleAssignablePrincipal(trx, body.principalId);

      const assignment: RoleAssignmentRow = {
        id: newId(),
        role_definition_id: role.id,
        principal_id: principal.id,
        directory_scope_id: scope,
        created_at: this.now(),
      };
      // The unique index decides, so that two requests racing for one assignment cannot both win.
      if (!(await store.insertRoleAssignmentIfNew(trx, assignment))) {
        throw DirectoryErrors.roleAssignmentExists();
      }
      await this.record(trx, actor, {
        category: 'RoleManagement',
        service: 'Core Directory',
        activity: 'Add member to role',
        operationType: 'Assign',
        result: 'success',
        targets: [{ id: role.id, type: 'Role', displayName: role.display_name }, principal],
      });
      return assignment;
    });
  }

  async deleteRoleAssignment(actor: CallerActor, id: string): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      await this.permissions.requireAdmin(actor.caller, trx);
      const assignment = await store.findRoleAssignment(trx, id);
      if (!assignment) throw DirectoryErrors.roleAssignmentNotFound(id);
      const role = await store.findRoleDefinition(trx, assignment.role_definition_id);

      await store.deleteRoleAssignment(trx, assignment.id);
      await this.record(trx, actor, {
        category: 'RoleManagement',
        service: 'Core Directory',
        activity: 'Remove member from role',
        operationType: 'Unassign',
        result: 'success',
        targets: [
          { id: assignment.role_definition_id, type: 'Role', displayName: role?.display_name },
          await this.principalTarget(trx, assignment.principal_id),
        ],
      });
    });
  }

  /** One role assignment: readers see any, other users those made to themselves. */
  async getRoleAssignment(actor: CallerActor, id: string): Promise<RoleAssignmentRow> {
    const assignment = await store.findRoleAssignment(this.db.kysely, id);
    if (assignment?.principal_id === actor.caller.userId) return assignment;

    // Checked before answering 404, so that others cannot learn which ids exist.
    await this.permissions.requireReader(actor.caller);
    if (!assignment) throw DirectoryErrors.roleAssignmentNotFound(id);
    return assignment;
  }

  /**
   * Role assignments as made, to users and groups. Readers list any; other users only those
   * made to themselves, by filtering on `principalId eq '{their id}'`.
   */
  async listRoleAssignments(
    actor: CallerActor,
    query: ODataQuery,
  ): Promise<Page<RoleAssignmentRow>> {
    const { values } = takeEquality(query.filter, 'principalId');
    if (!(await this.mayListRolesOf(actor, values))) {
      await this.permissions.requireReader(actor.caller);
    }

    return store.listRoleAssignments(this.db.kysely, query);
  }

  /**
   * Anyone may list its own role assignments. What a group grants is what its members get, so
   * every member user may list a group's: people who are eligible for it, who approve it, or who
   * are asked to, need to see what they decide about. The filter requires the principal, since
   * its `eq` stands in the filter's top-level `and`s.
   */
  private async mayListRolesOf(actor: CallerActor, principalIds: unknown[]): Promise<boolean> {
    if (principalIds.includes(actor.caller.userId)) return true;

    const groupId = principalIds.find((id): id is string => typeof id === 'string');
    if (groupId === undefined || !(await store.findGroup(this.db.kysely, groupId))) return false;
    await this.permissions.requireMemberUser(actor.caller, this.db.kysely);
    return true;
  }

  /**
   * The role assignments that reach a user now: those made to it and those made to a group it
   * belongs to now. Each keeps the principal it was made to. A user may ask about itself,
   * readers about anyone.
   */
  async transitiveRoleAssignments(
    actor: CallerActor,
    query: ODataQuery,
  ): Promise<Page<RoleAssignmentRow>> {
    const { values, rest } = takeEquality(query.filter, 'principalId');
    const principalId = values[0];
    if (typeof principalId !== 'string' || values.some((value) => value !== principalId)) {
      throw badRequest(
        "transitiveRoleAssignments needs one principal: $filter=principalId eq '{id}'.",
      );
    }
    if (principalId !== actor.caller.userId) await this.permissions.requireReader(actor.caller);

    const principalIds = await this.access.rolePrincipalIdsOf(principalId);
    return store.listRoleAssignmentsOfPrincipals(this.db.kysely, principalIds, rest, query);
  }

  // Start-up

  /** Adds any built-in role definition that the database does not have yet. */
  async ensureBuiltInRoles(): Promise<void> {
    await this.db.kysely
      .insertInto('role_definitions')
      .values(
        BUILT_IN_ROLES.map((role) => ({
          id: role.id,
          display_name: role.displayName,
          description: role.description,
          is_built_in: 1,
          is_enabled: 1,
          template_id: role.id,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /**
   * On an empty directory, creates `admin@<domain>` as Global Administrator. Answers the password
   * when it was generated, so that the caller can show it once.
   */
  async bootstrapAdmin(password: string | undefined, generated: () => string) {
    const anyone = await this.db.kysely.selectFrom('users').select('id').executeTakeFirst();
    if (anyone) return null;

    const chosen = password ?? generated();
    checkPassword(chosen);
    const now = this.now();
    const admin: UserRow = {
      id: newId(),
      display_name: 'Administrator',
      user_principal_name: `admin@${this.domain}`,
      mail: null,
      user_type: 'Member',
      account_enabled: 1,
      password_hash: await hashPassword(chosen),
      created_at: now,
    };

    await this.db.kysely.transaction().execute(async (trx) => {
      await store.insertUser(trx, admin);
      await trx
        .insertInto('role_assignments')
        .values({
          id: newId(),
          role_definition_id: RoleIds.globalAdministrator,
          principal_id: admin.id,
          directory_scope_id: '/',
          created_at: now,
        })
        .execute();
      await this.record(
        trx,
        { caller: null, correlationId: newId() },
        userEvent('Add user', 'Add', admin),
      );
    });
    return { userPrincipalName: admin.user_principal_name, password: password ? null : chosen };
  }

  // Helpers

  /** Owners are chosen by the group's managers; members also by its owners. */
  private requireRelationshipManager(
    caller: Caller,
    trx: Kysely<Database>,
    group: GroupRow,
    relationship: AccessId,
  ): Promise<void> {
    return relationship === 'owner'
      ? this.permissions.requireGroupManager(caller, trx, group.is_assignable_to_role === 1)
      : this.permissions.requireMemberManager(caller, trx, group);
  }

  private async readableUser(actor: CallerActor, idOrUpn: string): Promise<UserRow> {
    const user = await store.findUser(this.db.kysely, idOrUpn);
    if (user?.id === actor.caller.userId) return user;

    // Checked before answering 404, so that guests cannot probe which names exist.
    await this.permissions.requireMemberUser(actor.caller, this.db.kysely);
    if (!user) throw DirectoryErrors.userNotFound(idOrUpn);
    return user;
  }

  private async requireGroupVisible(caller: Caller, group: GroupRow): Promise<void> {
    const guest = await this.db.kysely
      .selectFrom('users')
      .select('user_type')
      .where('id', '=', caller.userId)
      .executeTakeFirst();
    if (guest?.user_type === 'Member') return;
    if (await this.access.isInGroup(caller.userId, group.id, 'member')) return;
    throw forbidden('Guests see only the groups they belong to.');
  }

  private async roleAssignablePrincipal(trx: Kysely<Database>, id: string): Promise<AuditTarget> {
    const user = isGuid(id) ? await store.findUser(trx, id) : undefined;
    if (user) return userTarget(user);

    const group = await store.findGroup(trx, id);
    if (!group) throw DirectoryErrors.principalNotFound(id);
    if (group.is_assignable_to_role !== 1) {
      throw badRequest(
        'Roles can be assigned only to users and to groups created with isAssignableToRole.',
      );
    }
    return groupTarget(group);
  }

  /** The principal of an assignment as an audit target, described as it is now. */
  private async principalTarget(trx: Kysely<Database>, id: string): Promise<AuditTarget> {
    const user = await store.findUser(trx, id);
    if (user) return userTarget(user);
    const group = await store.findGroup(trx, id);
    return group ? groupTarget(group) : { id, type: 'Other' };
  }

  private checkUserPrincipalName(upn: string, userType: 'Member' | 'Guest'): void {
    if (!MAIL.test(upn)) {
      throw badRequest('userPrincipalName must look like name@domain.');
    }
    if (userType === 'Member' && !upn.endsWith(`@${this.domain}`)) {
      throw badRequest(`A member's userPrincipalName must end in @${this.domain}.`);
    }
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  private record(db: Kysely<Database>, actor: Actor, event: AuditEvent) {
    return this.audit.record(db, actor, event);
  }
}

function parseUserType(value: string): 'Member' | 'Guest' {
  const lower = value.toLowerCase();
  if (lower === 'member') return 'Member';
  if (lower === 'guest') return 'Guest';
  throw badRequest("userType must be 'Member' or 'Guest'.");
}

function checkMail(mail: string | null | undefined): string | null {
  if (mail === undefined || mail === null || mail === '') return null;
  const trimmed = mail.trim().toLowerCase();
  if (!MAIL.test(trimmed)) throw badRequest('mail must be an email address.');
  return trimmed;
}

/** A name of blanks only would show as nothing in every list. */
function checkDisplayName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw badRequest('displayName must not be blank.');
  return trimmed;
}

function checkMailNickname(nickname: string): void {
  if (!MAIL_NICKNAME.test(nickname)) {
    throw badRequest(
      'mailNickname may contain only letters, digits, dots, dashes and underscores.',
    );
  }
}

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw badRequest(`passwordProfile.password ${problem}.`);
}

/** The id at the end of `{"@odata.id": "https://.../v1.0/directoryObjects/{id}"}`. */
function principalIdFromReference(odataId: string): string {
  const match = /(?:^|\/)(?:directoryObjects|users|groups)\/([0-9a-fA-F-]{36})\/?$/.exec(odataId);
  if (!match?.[1] || !isGuid(match[1])) {
    throw badRequest("@odata.id must be a reference like '<base>/v1.0/directoryObjects/{id}'.");
  }
  return match[1].toLowerCase();
}

function userEvent(activity: string, operationType: AuditEvent['operationType'], user: UserRow) {
  return {
    category: 'UserManagement',
    service: 'Core Directory',
    activity,
    operationType,
    result: 'success',
    targets: [userTarget(user)],
  } satisfies AuditEvent;
}

function groupEvent(activity: string, operationType: AuditEvent['operationType'], group: GroupRow) {
  return {
    category: 'GroupManagement',
    service: 'Core Directory',
    activity,
    operationType,
    result: 'success',
    targets: [groupTarget(group)],
  } satisfies AuditEvent;
}

function membershipEvent(
  change: 'Add' | 'Remove',
  relationship: AccessId,
  group: GroupRow,
  user: UserRow,
): AuditEvent {
  return {
    category: 'GroupManagement',
    service: 'Core Directory',
    activity: `${change} ${relationship} ${change === 'Add' ? 'to' : 'from'} group`,
    operationType: change === 'Add' ? 'Assign' : 'Unassign',
    result: 'success',
    targets: [groupTarget(group), userTarget(user)],
  };
}

function userTarget(user: UserRow): AuditTarget {
  return {
    id: user.id,
    type: 'User',
    displayName: user.display_name,
    userPrincipalName: user.user_principal_name,
  };
}

function groupTarget(group: GroupRow): AuditTarget {
  return { id: group.id, type: 'Group', displayName: group.display_name };
}
