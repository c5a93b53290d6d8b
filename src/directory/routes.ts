import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { actorOf, odataContext } from '../http/actor.js';
import type { AccessId } from '../db/schema.js';
import {
  applySelect,
  collectionResponse,
  nextLinkFor,
  parseODataQuery,
  type ODataQuery,
  type Page,
} from '../http/odata.js';
import {
  groupsCollection,
  roleAssignmentsCollection,
  transitiveRoleAssignmentsCollection,
  usersCollection,
} from './collections.js';
import {
  CreateGroupBody,
  CreateRoleAssignmentBody,
  CreateUserBody,
  IdParam,
  ODataQueryString,
  RefBody,
  UpdateGroupBody,
  UpdateUserBody,
  toGraphGroup,
  toGraphRoleAssignment,
  toGraphUser,
} from './schema.js';
import type { DirectoryService } from './service.js';

export interface DirectoryRouteOptions {
  directory: DirectoryService;
  publicUrl: string;
}

const RELATIONSHIPS: Record<string, AccessId> = { members: 'member', owners: 'owner' };

/** Users, groups, standing membership, role definitions and role assignments, as in Graph. */
export const directoryRoutes: FastifyPluginAsyncTypebox<DirectoryRouteOptions> = async (
  app,
  { directory, publicUrl },
) => {
  const context = (path: string) => odataContext(publicUrl, path);

  /** Graph's list body for one page, keeping the `$select`ed properties of each item. */
  function listResponse<Row, Item extends object>(
    request: FastifyRequest,
    path: string,
    query: ODataQuery,
    page: Page<Row>,
    toGraph: (row: Row) => Item,
  ) {
    const selected = query.select ? `(${query.select.join(',')})` : '';
    return collectionResponse(
      page.items.map((row) => applySelect(toGraph(row), query.select)),
      {
        context: context(`${path}${selected}`),
        count: page.count,
        nextLink: nextLinkFor(request.originalUrl, publicUrl, page.nextSkip),
      },
    );
  }

  app.get('/me', { schema: { tags: ['users'] } }, async (request) => {
    const actor = actorOf(request);
    const user = await directory.getUser(actor, actor.caller.userId);
    return { '@odata.context': context('users/$entity'), ...toGraphUser(user) };
  });

  app.get(
    '/users',
    { schema: { tags: ['users'], querystring: ODataQueryString } },
    async (request) => {
      const query = parseODataQuery(request.query, usersCollection);
      const page = await directory.listUsers(actorOf(request), query);
      return listResponse(request, 'users', query, page, toGraphUser);
    },
  );

  app.post(
    '/users',
    { schema: { tags: ['users'], body: CreateUserBody } },
    async (request, reply) => {
      const user = await directory.createUser(actorOf(request), request.body);
      return reply
        .status(201)
        .send({ '@odata.context': context('users/$entity'), ...toGraphUser(user) });
    },
  );

  app.get('/users/:id', { schema: { tags: ['users'], params: IdParam } }, async (request) => {
    const user = await directory.getUser(actorOf(request), request.params.id);
    return { '@odata.context': context('users/$entity'), ...toGraphUser(user) };
  });

  app.patch(
    '/users/:id',
    { schema: { tags: ['users'], params: IdParam, body: UpdateUserBody } },
    async (request, reply) => {
      await directory.updateUser(actorOf(request), request.params.id, request.body);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/users/:id',
    { schema: { tags: ['users'], params: IdParam } },
    async (request, reply) => {
      await directory.deleteUser(actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/users/:id/transitiveMemberOf',
    { schema: { tags: ['users'], params: IdParam } },
    async (request) => {
      const groups = await directory.transitiveMemberOf(actorOf(request), request.params.id);
      return {
        '@odata.context': context('directoryObjects'),
        value: groups.map((g) => ({ '@odata.type': '#microsoft.graph.group', ...toGraphGroup(g) })),
      };
    },
  );

  app.get(
    '/groups',
    { schema: { tags: ['groups'], querystring: ODataQueryString } },
    async (request) => {
      const query = parseODataQuery(request.query, groupsCollection);
      const page = await directory.listGroups(actorOf(request), query);
      return listResponse(request, 'groups', query, page, toGraphGroup);
    },
  );

  app.post(
    '/groups',
    { schema: { tags: ['groups'], body: CreateGroupBody } },
    async (request, reply) => {
      const group = await directory.createGroup(actorOf(request), request.body);
      return reply
        .status(201)
        .send({ '@odata.context': context('groups/$entity'), ...toGraphGroup(group) });
    },
  );

  app.get('/groups/:id', { schema: { tags: ['groups'], params: IdParam } }, async (request) => {
    const group = await directory.getGroup(actorOf(request), request.params.id);
    return { '@odata.context': context('groups/$entity'), ...toGraphGroup(group) };
  });

  app.patch(
    '/groups/:id',
    { schema: { tags: ['groups'], params: IdParam, body: UpdateGroupBody } },
    async (request, reply) => {
      await directory.updateGroup(actorOf(request), request.params.id, request.body);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/groups/:id',
    { schema: { tags: ['groups'], params: IdParam } },
    async (request, reply) => {
      await directory.deleteGroup(actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  const RelationshipParams = Type.Object({
    id: Type.String({ maxLength: 64 }),
    relationship: Type.Union([Type.Literal('members'), Type.Literal('owners')]),
  });

  app.get(
    '/groups/:id/:relationship',
    { schema: { tags: ['groups'], params: RelationshipParams } },
    async (request) => {
      const { id, relationship } = request.params;
      const users = await directory.listMembers(actorOf(request), id, RELATIONSHIPS[relationship]!);
      return {
        '@odata.context': context('directoryObjects'),
        value: users.map((u) => ({ '@odata.type': '#microsoft.graph.user', ...toGraphUser(u) })),
      };
    },
  );

  app.post(
    '/groups/:id/:relationship/$ref',
    { schema: { tags: ['groups'], params: RelationshipParams, body: RefBody } },
    async (request, reply) => {
      const { id, relationship } = request.params;
      await directory.addMember(
        actorOf(request),
        id,
        RELATIONSHIPS[relationship]!,
        request.body['@odata.id'],
      );
      return reply.status(204).send();
    },
  );

  app.delete(
    '/groups/:id/:relationship/:principalId/$ref',
    {
      schema: {
        tags: ['groups'],
        params: Type.Intersect([RelationshipParams, Type.Object({ principalId: Type.String() })]),
      },
    },
    async (request, reply) => {
      const { id, relationship, principalId } = request.params;
      await directory.removeMember(actorOf(request), id, RELATIONSHIPS[relationship]!, principalId);
      return reply.status(204).send();
    },
  );

  const roles = '/roleManagement/directory';

  app.get(`${roles}/roleDefinitions`, { schema: { tags: ['roles'] } }, async () => {
    const definitions = await directory.listRoleDefinitions();
    return {
      '@odata.context': context('roleManagement/directory/roleDefinitions'),
      value: definitions.map(toGraphRoleDefinition),
    };
  });

  app.get(
    `${roles}/roleDefinitions/:id`,
    { schema: { tags: ['roles'], params: IdParam } },
    async (request) => {
      const definition = await directory.getRoleDefinition(request.params.id);
      return {
        '@odata.context': context('roleManagement/directory/roleDefinitions/$entity'),
        ...toGraphRoleDefinition(definition),
      };
    },
  );

  const assignments = `${roles}/roleAssignments`;

  app.post(
    assignments,
    { schema: { tags: ['roles'], body: CreateRoleAssignmentBody } },
    async (request, reply) => {
      const assignment = await directory.createRoleAssignment(actorOf(request), request.body);
      return reply.status(201).send({
        '@odata.context': context('roleManagement/directory/roleAssignments/$entity'),
        ...toGraphRoleAssignment(assignment),
      });
    },
  );

  app.get(
    assignments,
    { schema: { tags: ['roles'], querystring: ODataQueryString } },
    async (request) => {
      const query = parseODataQuery(request.query, roleAssignmentsCollection);
      const page = await directory.listRoleAssignments(actorOf(request), query);
      return listResponse(
        request,
        'roleManagement/directory/roleAssignments',
        query,
        page,
        toGraphRoleAssignment,
      );
    },
  );

  app.get(
    `${assignments}/:id`,
    { schema: { tags: ['roles'], params: IdParam } },
    async (request) => {
      const assignment = await directory.getRoleAssignment(actorOf(request), request.params.id);
      return {
        '@odata.context': context('roleManagement/directory/roleAssignments/$entity'),
        ...toGraphRoleAssignment(assignment),
      };
    },
  );

  app.delete(
    `${assignments}/:id`,
    { schema: { tags: ['roles'], params: IdParam } },
    async (request, reply) => {
      await directory.deleteRoleAssignment(actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    `${roles}/transitiveRoleAssignments`,
    { schema: { tags: ['roles'], querystring: ODataQueryString } },
    async (request) => {
      const query = parseODataQuery(request.query, transitiveRoleAssignmentsCollection);
      const page = await directory.transitiveRoleAssignments(actorOf(request), query);
      return listResponse(
        request,
        'roleManagement/directory/transitiveRoleAssignments',
        query,
        page,
        toGraphRoleAssignment,
      );
    },
  );
};

function toGraphRoleDefinition(role: {
  id: string;
  display_name: string;
  description: string;
  is_built_in: number;
  is_enabled: number;
  template_id: string;
}) {
  return {
    id: role.id,
    displayName: role.display_name,
    description: role.description,
    isBuiltIn: role.is_built_in === 1,
    isEnabled: role.is_enabled === 1,
    templateId: role.template_id,
    rolePermissions: [],
  };
}
