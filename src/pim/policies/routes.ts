import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { actorOf, odataContext } from '../../http/actor.js';
import {
  applySelect,
  collectionResponse,
  findEquality,
  nextLinkFor,
  parseODataQuery,
  type FilterNode,
  type ODataQuery,
} from '../../http/odata.js';
import { PolicyErrors } from './errors.js';
import {
  contextSuffix,
  matchesFilter,
  policiesCollection,
  policyAssignmentEntity,
  policyAssignmentsCollection,
  policyEntity,
  ruleEntity,
  rulesCollection,
  shapePolicy,
  shapePolicyAssignment,
  toGraphPolicyAssignment,
} from './graph.js';
import type { PolicyService } from './service.js';

export interface PolicyRouteOptions {
  policies: PolicyService;
  publicUrl: string;
}

const QueryString = Type.Record(Type.String(), Type.Unknown());
const PolicyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });
const RuleParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 300 }),
  ruleId: Type.String({ minLength: 1, maxLength: 100 }),
});
const RulesSegment = Type.Union([Type.Literal('rules'), Type.Literal('effectiveRules')]);
const RulesParams = Type.Object({ id: PolicyParams.properties.id, rules: RulesSegment });
const RuleOfRulesParams = Type.Object({
  id: PolicyParams.properties.id,
  rules: RulesSegment,
  ruleId: RuleParams.properties.ruleId,
});

const POLICIES = 'policies/roleManagementPolicies';
const ASSIGNMENTS = 'policies/roleManagementPolicyAssignments';

/**
 * Group policies under `/policies`, as Graph serves them: `roleManagementPolicies` with their
 * rules, and `roleManagementPolicyAssignments`, which tie each policy to member or owner.
 */
export const policyRoutes: FastifyPluginAsyncTypebox<PolicyRouteOptions> = async (
  app,
  { policies, publicUrl },
) => {
  const context = (path: string) => odataContext(publicUrl, path);
  const schema = { tags: ['policies'], querystring: QueryString };

  /** A page of a list that is already whole in memory; a group has only two policies. */
  function listResponse<T>(
    request: FastifyRequest,
    path: string,
    query: ODataQuery,
    items: readonly T[],
    shape: (item: T) => object,
  ) {
    const end = query.skip + query.top;
    return collectionResponse(items.slice(query.skip, end).map(shape), {
      context: context(`${path}${contextSuffix(query.select, query.expand)}`),
      count: query.count ? items.length : null,
      nextLink: nextLinkFor(request.originalUrl, publicUrl, end < items.length ? end : null),
    });
  }

  app.get(`/${POLICIES}`, { schema }, async (request) => {
    const query = parseODataQuery(request.query, policiesCollection);
    const groupId = groupScopeOf(query.filter, 'roleManagementPolicies');

    const found = groupId === null ? [] : await policies.listPolicies(actorOf(request), groupId);
    const matching = found.filter((policy) =>
      matchesFilter(query.filter, {
        id: policy.id,
        scopeId: policy.groupId,
        scopeType: 'Group',
        isOrganizationDefault: 0,
      }),
    );
    return listResponse(request, POLICIES, query, matching, (policy) =>
      shapePolicy(policy, query.select, query.expand, context),
    );
  });

  app.get(`/${POLICIES}/:id`, { schema: { ...schema, params: PolicyParams } }, async (request) => {
    const query = parseODataQuery(request.query, policyEntity);
    const policy = await policies.getPolicy(actorOf(request), request.params.id);
    return {
      '@odata.context': context(`${POLICIES}${contextSuffix(query.select, query.expand)}/$entity`),
      ...shapePolicy(policy, query.select, query.expand, context),
    };
  });

  app.patch(
    `/${POLICIES}/:id`,
    { schema: { tags: ['policies'], params: PolicyParams } },
    async (request, reply) => {
      await policies.updatePolicy(actorOf(request), request.params.id, request.body);
      return reply.status(204).send();
    },
  );

  app.get(
    `/${POLICIES}/:id/:rules`,
    { schema: { ...schema, params: RulesParams } },
    async (request) => {
      const query = parseODataQuery(request.query, rulesCollection);
      const policy = await policies.getPolicy(actorOf(request), request.params.id);
      const rules = policy.rules.filter((rule) => matchesFilter(query.filter, { id: rule.id }));
      const path = `${POLICIES}('${policy.id}')/${request.params.rules}`;
      return listResponse(request, path, query, rules, (rule) => rule);
    },
  );

  app.get(
    `/${POLICIES}/:id/:rules/:ruleId`,
    { schema: { ...schema, params: RuleOfRulesParams } },
    async (request) => {
      const query = parseODataQuery(request.query, ruleEntity);
      const { id, rules, ruleId } = request.params;
      const rule = await policies.getRule(actorOf(request), id, ruleId);
      const path = `${POLICIES}('${id}')/${rules}${contextSuffix(query.select, [])}/$entity`;
      return { '@odata.context': context(path), ...applySelect(rule, query.select) };
    },
  );

  app.patch(
    `/${POLICIES}/:id/rules/:ruleId`,
    { schema: { tags: ['policies'], params: RuleParams } },
    async (request, reply) => {
      const { id, ruleId } = request.params;
      await policies.updateRule(actorOf(request), id, ruleId, request.body);
      return reply.status(204).send();
    },
  );

  app.get(`/${ASSIGNMENTS}`, { schema }, async (request) => {
    const query = parseODataQuery(request.query, policyAssignmentsCollection);
    const groupId = groupScopeOf(query.filter, 'roleManagementPolicyAssignments');

    const found = groupId === null ? [] : await policies.listPolicies(actorOf(request), groupId);
    const matching = found.filter((policy) => {
      const assignment = toGraphPolicyAssignment(policy);
      return matchesFilter(query.filter, { ...assignment });
    });
    return listResponse(request, ASSIGNMENTS, query, matching, (policy) =>
      shapePolicyAssignment(policy, query.select, query.expand, context),
    );
  });

  app.get(
    `/${ASSIGNMENTS}/:id`,
    { schema: { ...schema, params: PolicyParams } },
    async (request) => {
      const query = parseODataQuery(request.query, policyAssignmentEntity);
      const policy = await policies.getPolicyOfAssignment(actorOf(request), request.params.id);
      return {
        '@odata.context': context(
          `${ASSIGNMENTS}${contextSuffix(query.select, query.expand)}/$entity`,
        ),
        ...shapePolicyAssignment(policy, query.select, query.expand, context),
      };
    },
  );
};

/**
 * The group a policy list is about. Graph requires `scopeId eq ... and scopeType eq ...`; Elevate
 * has group policies only, so another scope type has none.
 */
function groupScopeOf(filter: FilterNode | null, collection: string): string | null {
  const scopeId = findEquality(filter, 'scopeId');
  const scopeType = findEquality(filter, 'scopeType');
  if (typeof scopeId !== 'string' || typeof scopeType !== 'string') {
    throw PolicyErrors.scopeRequired(collection);
  }
  return scopeType === 'Group' ? scopeId : null;
}
