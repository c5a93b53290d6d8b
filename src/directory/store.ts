import type { Kysely, Selectable } from 'kysely';
import type {
  AccessId,
  Database,
  GroupTable,
  RoleAssignmentTable,
  UserTable,
} from '../db/schema.js';
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

export async function insertGroup(db: Db, group: GroupRow): Promise<void> {
  await db.insertInto('groups').values(group).execute();
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

export async function isDirectMember(
  db: Db,
  groupId: string,
  principalId: string,
  relationship: AccessId,
): Promise<boolean> {
  const row = await db
    .selectFrom('group_members')
    .select('principal_id')
    .where('group_id', '=', groupId)
    .where('principal_id', '=', principalId)
    .where('relationship', '=', relationship)
    .executeTakeFirst();
  return row !== undefined;
}

export async function addDirectMember(
  db: Db,
  groupId: string,
  principalId: string,
  relationship: AccessId,
  now: string,
): Promise<void> {
  await db
    .insertInto('group_members')
    .values({ group_id: groupId, principal_id: principalId, relationship, created_at: now })
    .execute();
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

export function roleAssignmentsOfPrincipals(db: Db, principalIds: readonly string[]) {
  if (principalIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('role_assignments')
    .selectAll()
    .where('principal_id', 'in', principalIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Does the user hold any role or any PIM assignment? Such users are managed by admins only. */
export async function isPrivilegedUser(db: Db, userId: string): Promise<boolean> {
  const role = await db
    .selectFrom('role_assignments')
    .select('id')
    .where('principal_id', '=', userId)
    .executeTakeFirst();
  if (role) return true;

  const schedule = await db
    .selectFrom('pim_schedules')
    .select('id')
    .where('principal_id', '=', userId)
    .executeTakeFirst();
  return schedule !== undefined;
}
