import { ApiError, get, getAll, odataString, PIM, post, query } from './api';
import { RoleIds, type RoleAssignment, type Schedule, type User } from './graph';
import type { Session } from './session';

export interface Credentials {
  username: string;
  password: string;
  otp?: string;
}

/** Signs in through the portal's endpoint, which answers with the httpOnly session cookie. */
export async function signIn(credentials: Credentials): Promise<void> {
  await post('/auth/login', {
    username: credentials.username.trim(),
    password: credentials.password,
    ...(credentials.otp ? { otp: credentials.otp.trim() } : {}),
  });
}

export async function signOut(): Promise<void> {
  await post('/auth/logout');
}

/** Who is signed in and what they may manage, or null when nobody is. */
export async function loadSession(mfa: boolean): Promise<Session | null> {
  let me: User;
  try {
    me = await get<User>('/v1.0/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }

  const [assignments, owned] = await Promise.all([
    getAll<RoleAssignment>(
      `/v1.0/roleManagement/directory/transitiveRoleAssignments${query({
        $filter: `principalId eq ${odataString(me.id)}`,
      })}`,
    ),
    getAll<Schedule>(
      `${PIM}/assignmentScheduleInstances/filterByCurrentUser(on='principal')${query({
        $filter: "accessId eq 'owner'",
      })}`,
    ),
  ]);

  const roles = new Set(assignments.map((a) => a.roleDefinitionId));
  const isAdmin =
    roles.has(RoleIds.globalAdministrator) || roles.has(RoleIds.privilegedRoleAdministrator);
  const ownedGroupIds = [...new Set(owned.map((s) => s.groupId))];
  return {
    me,
    roles,
    ownedGroupIds,
    mfa,
    isAdmin,
    mayManageGroups: isAdmin || roles.has(RoleIds.groupsAdministrator) || ownedGroupIds.length > 0,
    mayReadAudit: isAdmin || roles.has(RoleIds.globalReader),
  };
}
