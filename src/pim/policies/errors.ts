import { GraphError, badRequest, forbidden, notFound } from '../../http/errors.js';

const clip = (value: string, max = 100) =>
  value.length > max ? `${value.slice(0, max)}...` : value;

/** Error codes of group policies, in Graph's words where Graph has them. */
export const PolicyErrors = {
  policyNotFound: (id: string) => notFound(`Role management policy '${clip(id)}' does not exist.`),
  ruleNotFound: (id: string) =>
    notFound(`Rule '${clip(id)}' does not exist; a group policy has the 17 rules of Graph.`),
  policyAssignmentNotFound: (id: string) =>
    notFound(`Role management policy assignment '${clip(id)}' does not exist.`),
  groupNotFound: (id: string) => notFound(`Group '${clip(id)}' does not exist.`),
  approverNotFound: (id: string) =>
    new GraphError(400, 'SubjectNotFound', `Approver '${clip(id)}' does not exist.`),
  scopeRequired: (collection: string) =>
    badRequest(`${collection} needs $filter with scopeId eq '{groupId}' and scopeType eq 'Group'.`),
  notAllowedToChange: (accessId: string) =>
    forbidden(
      accessId === 'member'
        ? 'Only an administrator of this group, or one of its active owners, may change its ' +
            'member policy.'
        : 'Only an administrator of this group may change its owner policy.',
    ),
  membersOnly: () => forbidden('Guests cannot read PIM policies.'),
  policyBodyInvalid: () =>
    badRequest(
      'A policy is changed through its rules: send {"rules": [...]} with one to 17 rules, each ' +
        'with its @odata.type and id.',
    ),
  ruleIdRequired: (index: number) => badRequest(`rules[${index}].id is required.`),
};
