import {
  applySelect,
  type CollectionSpec,
  type ExpandItem,
  type ExpandSpec,
  type FieldSpec,
  type FilterNode,
  type FilterValue,
} from '../../http/odata.js';
import { policyAssignmentIdFor } from './ids.js';
import type { StoredPolicy } from './store.js';

// Graph's shapes of policies, rules and policy assignments, and what their lists let a client
// filter, select and expand. A group has two policies, so lists are filtered in memory.

const RULE_SELECTABLE = [
  'id',
  'target',
  'isExpirationRequired',
  'maximumDuration',
  'enabledRules',
  'setting',
  'isEnabled',
  'claimValue',
  'notificationType',
  'recipientType',
  'notificationLevel',
  'isDefaultRecipientsEnabled',
  'notificationRecipients',
];

const POLICY_SELECTABLE = [
  'id',
  'displayName',
  'description',
  'isOrganizationDefault',
  'scopeId',
  'scopeType',
  'lastModifiedDateTime',
  'lastModifiedBy',
];

const RULES: ExpandSpec = { selectable: RULE_SELECTABLE };
const POLICY_EXPANDABLE = { rules: RULES, effectiveRules: RULES };

const field = (column: string, type: FieldSpec['type'], extra: Partial<FieldSpec> = {}) => ({
  column,
  type,
  ...extra,
});
const scopeFields = {
  scopeId: field('scopeId', 'string', { caseInsensitive: true }),
  scopeType: field('scopeType', 'enum', { enumValues: ['Directory', 'DirectoryRole', 'Group'] }),
};
const byId = [{ column: 'id', direction: 'asc' }] as const;

export const policiesCollection: CollectionSpec = {
  fields: {
    ...scopeFields,
    id: field('id', 'string'),
    isOrganizationDefault: field('isOrganizationDefault', 'boolean'),
  },
  selectable: [...POLICY_SELECTABLE, 'rules', 'effectiveRules'],
  expandable: POLICY_EXPANDABLE,
  defaultOrderBy: byId,
};

/** One policy: `$select` and `$expand` only. */
export const policyEntity: CollectionSpec = { ...policiesCollection, fields: {} };

export const rulesCollection: CollectionSpec = {
  fields: { id: field('id', 'string', { caseInsensitive: true }) },
  selectable: RULE_SELECTABLE,
  defaultOrderBy: byId,
};

export const ruleEntity: CollectionSpec = { ...rulesCollection, fields: {} };

export const policyAssignmentsCollection: CollectionSpec = {
  fields: {
    ...scopeFields,
    id: field('id', 'string'),
    policyId: field('policyId', 'string'),
    roleDefinitionId: field('roleDefinitionId', 'enum', { enumValues: ['member', 'owner'] }),
  },
  selectable: ['id', 'policyId', 'scopeId', 'scopeType', 'roleDefinitionId', 'policy'],
  expandable: {
    policy: {
      selectable: [...POLICY_SELECTABLE, 'rules', 'effectiveRules'],
      expandable: POLICY_EXPANDABLE,
    },
  },
  defaultOrderBy: byId,
};

export const policyAssignmentEntity: CollectionSpec = {
  ...policyAssignmentsCollection,
  fields: {},
};

export function toGraphPolicy(policy: StoredPolicy) {
  return {
    id: policy.id,
    displayName: 'Group',
    description: 'Group',
    isOrganizationDefault: false,
    scopeId: policy.groupId,
    scopeType: 'Group',
    lastModifiedDateTime: policy.lastModifiedAt,
    lastModifiedBy: {
      displayName: policy.lastModifiedBy?.displayName ?? null,
      id: policy.lastModifiedBy?.id ?? null,
    },
  };
}

export function toGraphPolicyAssignment(policy: StoredPolicy) {
  return {
    id: policyAssignmentIdFor(policy.groupId, policy.accessId),
    policyId: policy.id,
    scopeId: policy.groupId,
    scopeType: 'Group',
    roleDefinitionId: policy.accessId,
  };
}

/**
 * A policy with its `$select`ed properties and its expanded rules, each rule list with the
 * `@odata.context` Graph gives it.
 */
export function shapePolicy(
  policy: StoredPolicy,
  select: string[] | null,
  expand: readonly ExpandItem[],
  context: (path: string) => string,
): Record<string, unknown> {
  const shaped: Record<string, unknown> = applySelect(toGraphPolicy(policy), select);

  for (const item of expand) {
    const path = `policies/roleManagementPolicies('${policy.id}')/${item.name}`;
    shaped[`${item.name}@odata.context`] = context(`${path}${contextSuffix(item.select, [])}`);
    shaped[item.name] = policy.rules.map((rule) => applySelect(rule, item.select));
  }
  return shaped;
}

export function shapePolicyAssignment(
  policy: StoredPolicy,
  select: string[] | null,
  expand: readonly ExpandItem[],
  context: (path: string) => string,
): Record<string, unknown> {
  const shaped: Record<string, unknown> = applySelect(toGraphPolicyAssignment(policy), select);

  const expanded = expand.find((item) => item.name === 'policy');
  if (expanded) shaped.policy = shapePolicy(policy, expanded.select, expanded.expand, context);
  return shaped;
}

/** Graph's context suffix for a selection and expansion: `(rules(id))`, `(policy(rules()))`. */
export function contextSuffix(select: string[] | null, expand: readonly ExpandItem[]): string {
  const parts = [
    ...(select ?? []),
    ...expand.map(
      (item) => `${item.name}(${contextSuffix(item.select, item.expand).slice(1, -1)})`,
    ),
  ];
  return parts.length === 0 ? '' : `(${parts.join(',')})`;
}

/** Does an item with these property values pass the `$filter`? OData's rules, in memory. */
export function matchesFilter(
  filter: FilterNode | null,
  values: Readonly<Record<string, FilterValue>>,
): boolean {
  if (filter === null) return true;

  switch (filter.kind) {
    case 'and':
      return matchesFilter(filter.left, values) && matchesFilter(filter.right, values);
    case 'or':
      return matchesFilter(filter.left, values) || matchesFilter(filter.right, values);
    case 'not':
      return !matchesFilter(filter.operand, values);
    case 'startswith': {
      const actual = values[filter.property];
      return (
        typeof actual === 'string' && actual.toLowerCase().startsWith(filter.prefix.toLowerCase())
      );
    }
    case 'any':
      return false;
    case 'compare':
      return compare(
        values[filter.property] ?? null,
        filter.operator,
        filter.value,
        filter.ignoreCase,
      );
  }
}

function compare(
  actual: FilterValue,
  operator: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le',
  expected: FilterValue,
  ignoreCase: boolean,
): boolean {
  if (actual === null || expected === null) {
    if (operator === 'eq') return actual === expected;
    if (operator === 'ne') return actual !== expected;
    return false;
  }

  const fold = (value: string | number) =>
    ignoreCase && typeof value === 'string' ? value.toLowerCase() : value;
  const [left, right] = [fold(actual), fold(expected)];
  switch (operator) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'gt':
      return left > right;
    case 'ge':
      return left >= right;
    case 'lt':
      return left < right;
    case 'le':
      return left <= right;
  }
}
