import type { CollectionSpec, FieldSpec, FilterNode, FilterValue } from '../http/odata.js';

// What each directory list lets a client filter, select and sort, and where those properties are
// stored. Names are compared without regard to case, as Graph compares them.

const text = (column: string, sortable = false): FieldSpec => ({
  column,
  type: 'string',
  operators: ['eq', 'ne', 'startswith'],
  caseInsensitive: true,
  sortable,
});

const flag = (column: string): FieldSpec => ({ column, type: 'boolean' });

const created = (column: string): FieldSpec => ({
  column,
  type: 'datetime',
  operators: ['eq', 'ne', 'gt', 'ge', 'lt', 'le'],
  sortable: true,
});

export const usersCollection: CollectionSpec = {
  fields: {
    id: { column: 'users.id', type: 'guid' },
    displayName: text('users.display_name', true),
    userPrincipalName: text('users.user_principal_name', true),
    mail: text('users.mail'),
    userType: { column: 'users.user_type', type: 'enum', enumValues: ['Member', 'Guest'] },
    accountEnabled: flag('users.account_enabled'),
    createdDateTime: created('users.created_at'),
  },
  selectable: [
    'id',
    'displayName',
    'userPrincipalName',
    'mail',
    'userType',
    'accountEnabled',
    'createdDateTime',
  ],
  defaultOrderBy: [
    { column: 'users.display_name', direction: 'asc' },
    { column: 'users.id', direction: 'asc' },
  ],
};

export const groupsCollection: CollectionSpec = {
  fields: {
    id: { column: 'groups.id', type: 'guid' },
    displayName: text('groups.display_name', true),
    mailNickname: text('groups.mail_nickname'),
    securityEnabled: flag('groups.security_enabled'),
    mailEnabled: flag('groups.mail_enabled'),
    isAssignableToRole: flag('groups.is_assignable_to_role'),
    createdDateTime: created('groups.created_at'),
  },
  selectable: [
    'id',
    'displayName',
    'mailNickname',
    'description',
    'securityEnabled',
    'mailEnabled',
    'isAssignableToRole',
    'groupTypes',
    'createdDateTime',
  ],
  defaultOrderBy: [
    { column: 'groups.display_name', direction: 'asc' },
    { column: 'groups.id', direction: 'asc' },
  ],
};

const roleAssignmentFields = {
  id: { column: 'role_assignments.id', type: 'guid' },
  principalId: { column: 'role_assignments.principal_id', type: 'guid' },
  roleDefinitionId: { column: 'role_assignments.role_definition_id', type: 'guid' },
  directoryScopeId: { column: 'role_assignments.directory_scope_id', type: 'string' },
} as const satisfies Record<string, FieldSpec>;

const roleAssignmentOrder = [
  { column: 'role_assignments.created_at', direction: 'asc' },
  { column: 'role_assignments.id', direction: 'asc' },
] as const;

export const roleAssignmentsCollection: CollectionSpec = {
  fields: roleAssignmentFields,
  selectable: Object.keys(roleAssignmentFields),
  defaultOrderBy: roleAssignmentOrder,
};

/** `principalId` names the user whose effective roles are listed, so it takes `eq` only. */
export const transitiveRoleAssignmentsCollection: CollectionSpec = {
  fields: {
    principalId: { ...roleAssignmentFields.principalId, operators: ['eq'] },
    roleDefinitionId: roleAssignmentFields.roleDefinitionId,
  },
  selectable: Object.keys(roleAssignmentFields),
  defaultOrderBy: roleAssignmentOrder,
};

/**
 * Splits `property eq value` out of the top-level `and`s of a filter, for a property that says
 * what to list rather than which rows to keep. Answers the values it required (more than one
 * when the filter repeats it) and the rest of the filter.
 */
export function takeEquality(
  filter: FilterNode | null,
  property: string,
): { values: FilterValue[]; rest: FilterNode | null } {
  if (filter === null) return { values: [], rest: null };

  if (filter.kind === 'compare' && filter.property === property && filter.operator === 'eq') {
    return { values: [filter.value], rest: null };
  }
  if (filter.kind !== 'and') return { values: [], rest: filter };

  const left = takeEquality(filter.left, property);
  const right = takeEquality(filter.right, property);
  const rest =
    left.rest && right.rest
      ? { kind: 'and' as const, left: left.rest, right: right.rest }
      : (left.rest ?? right.rest);
  return { values: [...left.values, ...right.values], rest };
}
