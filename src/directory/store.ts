import type { Kysely, Selectable } from 'kysely';
import type {
  AccessId,
  Database,
  GroupTable,
  RoleAssignmentTable,
  UserTable,
} from '../db/schema.js';
import { listPage, type FilterNode, type ODataQuery, type Page } from '../http/odata.js';
import { boundText } from '../db/prepared.js';
import { isGuid } from '../shared/ids.js';

export type UserRow = Selectable<UserTable>;
export type GroupRow = Selectable<GroupTable>;
export type RoleAssignmentRow = Selectable<RoleAssignmentTable>;

type Db = Kysely<Database>;

/** A user by id or by user principal name, as Graph's `/users/{id | userPrincipalName}`. */
export function findUser(db: Db, idOrUpn: string): Promise<UserRow | undefined> {
  const query = db.selectFrom('users').selectAll();
  return (
    isGuid(idOrUpn)
      ? query.where('id', '=', idOrUpn.toLowerCase())
      : query.where('user_principal_name', '=', idOrUpn.toLowerCase())
  ).executeTakeFirst();
}

export function findGroup(db: Db, id: string): Promise<GroupRow | undefined> {
  if (!isGuid(id)) return Promise.resolve(undefined);
  return db.selectFrom('groups').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
}

export async function insertUser(db: Db, user: UserRow): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

/** Inserts the user unless its user principal name is taken; answers whether it did. */
export async function insertUserIfNew(db: Db, user: UserRow): Promise<boolean> {
  const result = await db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.column('user_principal_name').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export function listUsers(db: Db, query: ODataQuery): Promise<Page<UserRow>> {
  return listPage(db.selectFrom('users').selectAll('users'), query);
}

export async function updateUser(db: Db, id: string, changes: Partial<UserRow>): Promise<void> {
  if (Object.keys(changes).length === 0) return;
  await db.updateTable('users').set(changes).where('id', '=', id).execute();
}

/** Deletes a user and everything that gave it access; requests stay as history. */
export async function deleteUser(db: Db, id: string): Promise<void> {
  await db.deleteFrom('group_members').where('principal_id', '=', id).execute();
  await db.deleteFrom('role_assignments').where('principal_id', '=', id).execute();
  await db.deleteFrom('pim_schedules').where('principal_id', '=', id).execute();
  await db.deleteFrom('users').where('id', '=', id).execute();
}

export async function endSessionsOf(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

export async function insertGroup(db: Db, group: GroupRow): Promise<void> {
  await db.insertInto('groups').values(group).execute();
}

export function listGroups(db: Db, query: ODataQuery): Promise<Page<GroupRow>> {
  return listPage(db.selectFrom('groups').selectAll('groups'), query);
}

export async function updateGroup(db: Db, id: string, changes: Partial<GroupRow>): Promise<void> {
  if (Object.keys(changes).length === 0) return;
  await db.updateTable('groups').set(changes).where('id', '=', id).execute();
}

/** Deletes a group; its memberships, policies and schedules go with it through foreign keys. */
export async function deleteGroup(db: Db, id: string): Promise<void> {
  await db.deleteFrom('role_assignments').where('principal_id', '=', id).execute();
  await db.deleteFrom('groups').where('id', '=', id).execute();
}

/** Adds a standing member or owner; answers false when it already was one. */
export async function addDirectMember(
  db: Db,
  groupId: string,
  principalId: string,
  relationship: AccessId,
  now: string,
): Promise<boolean> {
  const result = await db
    .insertInto('group_members')
    .values({ group_id: groupId, principal_id: principalId, relationship, created_at: now })
    .onConflict((oc) => oc.columns(['group_id', 'relationship', 'principal_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function removeDirectMember(
  db: Db,
  groupId: string,
  principalId: string,
  relationship: AccessId,
): Promise<boolean> {
  const result = await db
    .deleteFrom('group_members')
    .where('group_id', '=', groupId)
    .where('principal_id', '=', principalId)
    .where('relationship', '=', relationship)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function usersByIds(db: Db, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('users')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('display_name')
    .orderBy('id')
    .execute();
}

export function groupsByIds(db: Db, ids: readonly string[]): Promise<GroupRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('groups')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('display_name')
    .orderBy('id')
    .execute();
}

export function findRoleAssignment(db: Db, id: string) {
  if (!isGuid(id)) return Promise.resolve(undefined);
  return db
    .selectFrom('role_assignments')
    .selectAll()
    .where('id', '=', id.toLowerCase())
    .executeTakeFirst();
}

/** Inserts the assignment unless the same one exists; answers whether it did. */
export async function insertRoleAssignmentIfNew(
  db: Db,
  assignment: RoleAssignmentRow,
): Promise<boolean> {
  const result = await db
    .insertInto('role_assignments')
    .values(assignment)
    .onConflict((oc) =>
      oc.columns(['principal_id', 'role_definition_id', 'directory_scope_id']).doNothing(),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function deleteRoleAssignment(db: Db, id: string): Promise<void> {
  await db.deleteFrom('role_assignments').where('id', '=', id).execute();
}

export function findRoleDefinition(db: Db, id: string) {
  return db
    .selectFrom('role_definitions')
    .selectAll()
    .where('id', '=', id.toLowerCase())
    .executeTakeFirst();
}

export function listRoleAssignments(db: Db, query: ODataQuery): Promise<Page<RoleAssignmentRow>> {
  return listPage(db.selectFrom('role_assignments').selectAll('role_assignments'), query);
}

/** Assignments made to any of the principals, with a filter over them and the query's paging. */
export function listRoleAssignmentsOfPrincipals(
  db: Db,
  principalIds: readonly string[],
  filter: FilterNode | null,
  query: ODataQuery,
): Promise<Page<RoleAssignmentRow>> {
  if (principalIds.length === 0) {
    return Promise.resolve({ items: [], nextSkip: null, count: query.count ? 0 : null });
  }

  const assignments = db
    .selectFrom('role_assignments')
    .selectAll('role_assignments')
    .where('principal_id', 'in', principalIds.map(boundText));
  return listPage(assignments, { ...query, filter });
}

/**
 * Could managing this user's account lead to privileges? True when it holds a role, is a
 * standing member or owner of a group that can hold roles, or has any PIM assignment or
 * eligibility. Such users are managed by Global and Privileged Role Administrators only.
 */
export async function isPrivilegedUser(db: Db, userId: string): Promise<boolean> {
  const role = await db
    .selectFrom('role_assignments')
    .select('id')
    .where('principal_id', '=', userId)
    .executeTakeFirst();
  if (role) return true;

  const roleAssignableGroup = await db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select('groups.id')
    .where('group_members.principal_id', '=', userId)
    .where('groups.is_assignable_to_role', '=', 1)
    .executeTakeFirst();
  if (roleAssignableGroup) return true;

  const schedule = await db
    .selectFrom('pim_schedules')
    .select('id')
    .where('principal_id', '=', userId)
    .executeTakeFirst();
  return schedule !== undefined;
}
