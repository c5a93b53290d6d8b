import { Type, type Static } from '@sinclair/typebox';
import type { GroupRow, RoleAssignmentRow, UserRow } from './store.js';

/** Caps on free text: no field may carry more than a person would type. */
export const Limits = {
  displayName: 256,
  description: 1024,
  mail: 254,
  userPrincipalName: 113,
  mailNickname: 64,
  password: 256,
} as const;

const ODataType = Type.Optional(Type.String({ maxLength: 200 }));

export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });

const queryOption = (description: string) =>
  Type.Optional(Type.String({ maxLength: 4000, description }));

/**
 * The OData query options of a list, named here for the API's documentation. `parseODataQuery`
 * reads and checks them, and answers 400 for any the list does not support.
 */
export const ODataQueryString = Type.Object(
  {
    $filter: queryOption("Conditions, as in displayName eq 'Tier 3 Office Admins'."),
    $select: queryOption('Properties to answer, comma-separated; id is always included.'),
    $orderby: queryOption('A sortable property, optionally followed by asc or desc.'),
    $top: queryOption('Page size, 1 to 999; further pages through @odata.nextLink.'),
    $skiptoken: queryOption('Written by @odata.nextLink; do not build it yourself.'),
    $count: queryOption('true to include @odata.count, the number of all matches.'),
  },
  { additionalProperties: true },
);

export const CreateUserBody = Type.Object(
  {
    '@odata.type': ODataType,
    displayName: Type.String({ minLength: 1, maxLength: Limits.displayName }),
    userPrincipalName: Type.String({ minLength: 3, maxLength: Limits.userPrincipalName }),
    mail: Type.Optional(Type.Union([Type.String({ maxLength: Limits.mail }), Type.Null()])),
    userType: Type.Optional(Type.String({ maxLength: 20 })),
    accountEnabled: Type.Optional(Type.Boolean()),
    mailNickname: Type.Optional(Type.String({ maxLength: Limits.mailNickname })),
    passwordProfile: Type.Optional(
      Type.Object(
        {
          password: Type.String({ maxLength: Limits.password }),
          forceChangePasswordNextSignIn: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UpdateUserBody = Type.Partial(
  Type.Object(
    {
      '@odata.type': Type.String({ maxLength: 200 }),
      displayName: Type.String({ minLength: 1, maxLength: Limits.displayName }),
      mail: Type.Union([Type.String({ maxLength: Limits.mail }), Type.Null()]),
      userType: Type.String({ maxLength: 20 }),
      accountEnabled: Type.Boolean(),
      passwordProfile: Type.Object(
        {
          password: Type.String({ maxLength: Limits.password }),
          forceChangePasswordNextSignIn: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false },
);
export type UpdateUserBody = Static<typeof UpdateUserBody>;

export const CreateGroupBody = Type.Object(
  {
    '@odata.type': ODataType,
    displayName: Type.String({ minLength: 1, maxLength: Limits.displayName }),
    mailNickname: Type.String({ minLength: 1, maxLength: Limits.mailNickname }),
    description: Type.Optional(
      Type.Union([Type.String({ maxLength: Limits.description }), Type.Null()]),
    ),
    securityEnabled: Type.Boolean(),
    mailEnabled: Type.Boolean(),
    isAssignableToRole: Type.Optional(Type.Boolean()),
    groupTypes: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 0 })),
  },
  { additionalProperties: false },
);
export type CreateGroupBody = Static<typeof CreateGroupBody>;

export const UpdateGroupBody = Type.Partial(
  Type.Object(
    {
      '@odata.type': Type.String({ maxLength: 200 }),
      displayName: Type.String({ minLength: 1, maxLength: Limits.displayName }),
      mailNickname: Type.String({ minLength: 1, maxLength: Limits.mailNickname }),
      description: Type.Union([Type.String({ maxLength: Limits.description }), Type.Null()]),
      securityEnabled: Type.Boolean(),
      mailEnabled: Type.Boolean(),
      isAssignableToRole: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false },
);
export type UpdateGroupBody = Static<typeof UpdateGroupBody>;

export const RefBody = Type.Object(
  { '@odata.id': Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

export const CreateRoleAssignmentBody = Type.Object(
  {
    '@odata.type': ODataType,
    roleDefinitionId: Type.String({ minLength: 1, maxLength: 64 }),
    principalId: Type.String({ minLength: 1, maxLength: 64 }),
    directoryScopeId: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type CreateRoleAssignmentBody = Static<typeof CreateRoleAssignmentBody>;

export function toGraphUser(user: UserRow) {
  return {
    id: user.id,
    displayName: user.display_name,
    userPrincipalName: user.user_principal_name,
    mail: user.mail,
    userType: user.user_type,
    accountEnabled: user.account_enabled === 1,
    createdDateTime: user.created_at,
  };
}
export type GraphUser = ReturnType<typeof toGraphUser>;

export function toGraphGroup(group: GroupRow) {
  return {
    id: group.id,
    displayName: group.display_name,
    mailNickname: group.mail_nickname,
    description: group.description,
    securityEnabled: group.security_enabled === 1,
    mailEnabled: group.mail_enabled === 1,
    isAssignableToRole: group.is_assignable_to_role === 1,
    groupTypes: [] as string[],
    createdDateTime: group.created_at,
  };
}
export type GraphGroup = ReturnType<typeof toGraphGroup>;

export function toGraphRoleAssignment(assignment: RoleAssignmentRow) {
  return {
    id: assignment.id,
    roleDefinitionId: assignment.role_definition_id,
    principalId: assignment.principal_id,
    directoryScopeId: assignment.directory_scope_id,
  };
}
