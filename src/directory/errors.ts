import type { AccessId } from '../db/schema.js';
import { GraphError, badRequest, conflict, notFound } from '../http/errors.js';

/** Error codes of the directory, in Graph's words where Graph has them. */
export const DirectoryErrors = {
  userNotFound: (id: string) => notFound(`User '${clip(id)}' does not exist.`),
  groupNotFound: (id: string) => notFound(`Group '${clip(id)}' does not exist.`),
  roleDefinitionNotFound: (id: string) => notFound(`Role definition '${clip(id)}' does not exist.`),
  roleAssignmentNotFound: (id: string) => notFound(`Role assignment '${clip(id)}' does not exist.`),
  principalNotFound: (id: string) =>
    new GraphError(400, 'SubjectNotFound', `Principal '${clip(id)}' does not exist.`),
  userPrincipalNameTaken: (upn: string) =>
    conflict(
      'ObjectConflict',
      'Another object with the same value for property userPrincipalName already exists: ' +
        `'${clip(upn)}'.`,
    ),
  alreadyMember: (relationship: AccessId) =>
    badRequest(
      'One or more added object references already exist for the following modified ' +
        `properties: ${relationship}s.`,
    ),
  notInGroup: (id: string, relationship: AccessId) =>
    notFound(`'${clip(id)}' is not a standing ${relationship} of the group.`),
  roleAssignmentExists: () =>
    conflict('RoleAssignmentExists', 'The role assignment already exists.'),
};

/** Ids and names in messages are cut short: a message must never carry a large input back. */
export function clip(value: string, max = 100): string {
  return value.length > max ? `${value.slice(0, max)}...` : value;
}
