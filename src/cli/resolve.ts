import { odataPath, quote, type ApiClient, type ApiResponse } from './client.js';
import { usageError } from './errors.js';
import { toCliError } from './refusals.js';

export interface GroupRef {
  id: string;
  displayName: string;
}

export interface UserRef {
  id: string;
  displayName: string;
  userPrincipalName: string;
}

export interface RoleRef {
  id: string;
  displayName: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isGuid = (value: string) => GUID.test(value);

/**
 * Groups by display name or id, all looked up in one round trip. A name that matches no group or
 * several is a usage error that says how to find the right one.
 */
export async function resolveGroups(client: ApiClient, names: string[]): Promise<GroupRef[]> {
  const responses = await client.batch(
    names.map((name, index) => ({
      id: String(index + 1),
      method: 'GET' as const,
      url: isGuid(name)
        ? `/groups/${name}`
        : odataPath('/groups', {
            $filter: `displayName eq ${quote(name)}`,
            $select: 'id,displayName',
            $top: '10',
          }),
    })),
  );
  return names.map((name, index) => pickOne<GroupRef>(client, name, responses[index], 'group'));
}

export async function resolveGroup(client: ApiClient, name: string): Promise<GroupRef> {
  const [group] = await resolveGroups(client, [name]);
  if (!group) throw usageError(`No group matches '${name}'.`);
  return group;
}

/** A user by id, user principal name, mail or display name. */
export async function resolveUser(client: ApiClient, name: string): Promise<UserRef> {
  const select = { $select: 'id,displayName,userPrincipalName', $top: '10' };
  const direct = isGuid(name) || name.includes('@');
  const response = await client.send(
    'GET',
    direct
      ? `/v1.0/users/${encodeURIComponent(name)}`
      : odataPath('/v1.0/users', { $filter: `displayName eq ${quote(name)}`, ...select }),
  );
  if (response.status === 404 && name.includes('@')) {
    const byMail = await client.send(
      'GET',
      odataPath('/v1.0/users', { $filter: `mail eq ${quote(name)}`, ...select }),
    );
    return pickOne<UserRef>(client, name, byMail, 'user');
  }
  return pickOne<UserRef>(client, name, response, 'user');
}

/** Every role definition, by id. */
export async function roleDefinitions(client: ApiClient): Promise<Map<string, string>> {
  const roles = await client.get<{ value: RoleRef[] }>(
    '/v1.0/roleManagement/directory/roleDefinitions',
  );
  return new Map(roles.value.map((role) => [role.id, role.displayName]));
}

/** A role by id or display name, in any case. */
export async function resolveRole(client: ApiClient, name: string): Promise<RoleRef> {
  const roles = await roleDefinitions(client);
  const wanted = name.trim().toLowerCase();
  for (const [id, displayName] of roles) {
    if (id.toLowerCase() === wanted || displayName.toLowerCase() === wanted) {
      return { id, displayName };
    }
  }
  throw usageError(`No role is named '${name}'.`, [
    'Roles are named as in Entra, such as "Exchange Administrator"; quote names with spaces.',
  ]);
}

function pickOne<T extends { id: string; displayName: string }>(
  client: ApiClient,
  name: string,
  response: ApiResponse | undefined,
  kind: 'group' | 'user',
): T {
  const list = kind === 'group' ? 'elevate groups list' : 'elevate users list';
  const missing = () =>
    usageError(`No ${kind} matches '${name}'.`, [`See the ${kind}s with: ${list}`]);
  if (!response || response.status === 404) throw missing();
  if (response.status >= 300) throw toCliError(response.status, response.body, client.server);

  const body = response.body as T | { value: T[] };
  const matches = 'value' in body ? body.value : [body];
  const [first, second] = matches;
  if (!first) throw missing();
  if (second) {
    throw usageError(`'${name}' names ${matches.length} ${kind}s; give the id instead:`, [
      ...matches.map((m) => `${m.id}  ${m.displayName}`),
    ]);
  }
  return first;
}

/**
 * The roles each group holds, by group id, in one round trip; null for a group whose role
 * assignments the caller may not read (only administrators and Global Readers may).
 */
export async function rolesOfGroups(
  client: ApiClient,
  groupIds: string[],
): Promise<Map<string, RoleRef[] | null>> {
  const ids = [...new Set(groupIds)];
  const result = new Map<string, RoleRef[] | null>();
  if (ids.length === 0) return result;

  const names = await roleDefinitions(client);
  const responses = await client.batch(
    ids.map((id, index) => ({
      id: String(index + 1),
      method: 'GET' as const,
      url: odataPath('/roleManagement/directory/roleAssignments', {
        $filter: `principalId eq ${quote(id)}`,
      }),
    })),
  );
  for (const [index, id] of ids.entries()) {
    const response = responses[index];
    if (response?.status === 403) {
      result.set(id, null);
      continue;
    }
    const assignments = await client.values<{ roleDefinitionId: string }>(response);
    result.set(
      id,
      assignments.map((a) => ({
        id: a.roleDefinitionId,
        displayName: names.get(a.roleDefinitionId) ?? a.roleDefinitionId,
      })),
    );
  }
  return result;
}

/** Role names for a table cell: `-` for none, a note when they cannot be read. */
export function roleList(roles: RoleRef[] | null | undefined): string {
  if (roles === null) return '(not visible to you)';
  if (!roles || roles.length === 0) return '-';
  return roles.map((role) => role.displayName).join(', ');
}
