import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { ScheduleKind } from '../db/schema.js';
import { actorOf, odataContext } from '../http/actor.js';
import { badRequest, conflict } from '../http/errors.js';
import {
  applySelect,
  collectionResponse,
  nextLinkFor,
  parseODataQuery,
  type CollectionSpec,
} from '../http/odata.js';
import type { ApprovalService, StageRow } from './approvals/service.js';
import type { PimReads, ScheduleView } from './reads.js';
import { requestSpec, scheduleSpec } from './reads.js';
import { collectionName, RequestBody, toGraphRequest } from './schema.js';
import type { RequestService } from './service.js';

export interface PimRouteOptions {
  requests: RequestService;
  reads: PimReads;
  approvals: ApprovalService;
  publicUrl: string;
}

const BASE = '/identityGovernance/privilegedAccess/group';
const KINDS: { kind: ScheduleKind; prefix: string }[] = [
  { kind: 'assignment', prefix: 'assignment' },
  { kind: 'eligibility', prefix: 'eligibility' },
];
const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
const Query = Type.Record(Type.String(), Type.Unknown());

/**
 * Requests and decisions per caller and minute. Generous for people and scripts (a batch of 20
 * activations counts 20), it stops a runaway client or a guessing attack from flooding the
 * engine and the audit log.
 */
const perCaller = {
  rateLimit: {
    max: 120,
    timeWindow: '1 minute',
    keyGenerator: (request: FastifyRequest) => request.caller?.userId ?? request.ip,
  },
};

/** PIM for Groups in Graph's v1.0 shape: requests, schedules, instances and approvals. */
export const pimRoutes: FastifyPluginAsyncTypebox<PimRouteOptions> = async (app, options) => {
  const { requests, reads, approvals, publicUrl } = options;
  const context = (path: string) => odataContext(publicUrl, path);
  const selectOnly = (spec: CollectionSpec, query: Record<string, unknown>) =>
    parseODataQuery({ ...pick(query, ['$select', 'select', '$expand', 'expand']) }, spec);

  for (const { kind, prefix } of KINDS) {
    const requestsPath = `${BASE}/${prefix}ScheduleRequests`;
    const requestsName = collectionName(kind, 'requests');
    const tags = [`${prefix} requests`];

    const submitOptions = { schema: { tags, body: RequestBody }, config: perCaller };
    app.post(requestsPath, submitOptions, async (request, reply) => {
      const result = await requests.submit(actorOf(request), kind, request.body);
      return reply.status(201).send({
        '@odata.context': context(`${requestsName}/$entity`),
        ...toGraphRequest(result.request, request.caller?.displayName ?? null),
        isValidationOnly: result.validationOnly,
      });
    });

    app.get(requestsPath, { schema: { tags, querystring: Query } }, async (request) => {
      const query = parseODataQuery(request.query, requestSpec);
      const page = await reads.listRequests(actorOf(request), kind, query, null);
      return respond(
        publicUrl,
        page,
        query.select,
        query.expand,
        context(requestsName),
        request.originalUrl,
      );
    });

    app.get(
      `${requestsPath}/filterByCurrentUser/:on`,
      {
        schema: {
          tags,
          querystring: Query,
          params: Type.Object({ on: Type.String({ maxLength: 20 }) }),
        },
      },
      async (request) => {
        const on = parseCurrentUser(request.params.on, ['principal', 'createdBy', 'approver']);
        const query = parseODataQuery(request.query, requestSpec);
        const page = await reads.listRequests(actorOf(request), kind, query, on);
        return respond(
          publicUrl,
          page,
          query.select,
          query.expand,
          context(requestsName),
          request.originalUrl,
        );
      },
    );

    app.get(
      `${requestsPath}/:id`,
      { schema: { tags, params: Id, querystring: Query } },
      async (request) => {
        const query = selectOnly(requestSpec, request.query);
        const item = await reads.getRequest(
          actorOf(request),
          kind,
          request.params.id,
          query.expand,
        );
        return {
          '@odata.context': context(`${requestsName}/$entity`),
          ...applySelect(item ?? {}, query.select, query.expand),
        };
      },
    );

    app.post(
      `${requestsPath}/:id/cancel`,
      { schema: { tags, params: Id } },
      async (request, reply) => {
        await approvals.cancel(actorOf(request), kind, request.params.id);
        return reply.status(204).send();
      },
    );

    for (const view of ['schedules', 'instances'] as ScheduleView[]) {
      const path = `${BASE}/${prefix}${view === 'schedules' ? 'Schedules' : 'ScheduleInstances'}`;
      const name = collectionName(kind, view);
      const viewTags = [`${prefix} ${view}`];

      app.get(path, { schema: { tags: viewTags, querystring: Query } }, async (request) => {
        const query = parseODataQuery(request.query, scheduleSpec);
        const page = await reads.listSchedules(actorOf(request), kind, view, query, false);
        return respond(
          publicUrl,
          page,
          query.select,
          query.expand,
          context(name),
          request.originalUrl,
        );
      });

      app.get(
        `${path}/filterByCurrentUser/:on`,
        {
          schema: {
            tags: viewTags,
            querystring: Query,
            params: Type.Object({ on: Type.String({ maxLength: 20 }) }),
          },
        },
        async (request) => {
          parseCurrentUser(request.params.on, ['principal']);
          const query = parseODataQuery(request.query, scheduleSpec);
          const page = await reads.listSchedules(actorOf(request), kind, view, query, true);
          return respond(
            publicUrl,
            page,
            query.select,
            query.expand,
            context(name),
            request.originalUrl,
          );
        },
      );

      app.get(
        `${path}/:id`,
        { schema: { tags: viewTags, params: Id, querystring: Query } },
        async (request) => {
          const query = selectOnly(scheduleSpec, request.query);
          const item = await reads.getSchedule(
            actorOf(request),
            kind,
            view,
            request.params.id,
            query.expand,
          );
          return {
            '@odata.context': context(`${name}/$entity`),
            ...applySelect(item ?? {}, query.select, query.expand),
          };
        },
      );
    }
  }

  const approvalsPath = `${BASE}/assignmentApprovals`;
  const approvalTags = ['approvals'];

  app.get(
    `${approvalsPath}/filterByCurrentUser/:on`,
    { schema: { tags: approvalTags, params: Type.Object({ on: Type.String({ maxLength: 20 }) }) } },
    async (request) => {
      parseCurrentUser(request.params.on, ['approver']);
      const waiting = await approvals.listMine(actorOf(request));
      return collectionResponse(
        waiting.map((w) => toGraphApproval(w.request.id, w.stages, w.assignedToMe)),
        { context: context('identityGovernance/privilegedAccess/group/assignmentApprovals') },
      );
    },
  );

  app.get(
    `${approvalsPath}/:id`,
    { schema: { tags: approvalTags, params: Id } },
    async (request) => {
      const {
        request: pending,
        stages,
        assignedToMe,
      } = await approvals.get(actorOf(request), request.params.id);
      return {
        '@odata.context': context(
          'identityGovernance/privilegedAccess/group/assignmentApprovals/$entity',
        ),
        ...toGraphApproval(pending.id, stages, assignedToMe),
      };
    },
  );

  // Graph's v1.0 documents say `steps` while its v1.0 model says `stages`: both are served.
  for (const segment of ['steps', 'stages']) {
    app.get(
      `${approvalsPath}/:id/${segment}`,
      { schema: { tags: approvalTags, params: Id } },
      async (request) => {
        const found = await approvals.get(actorOf(request), request.params.id);
        return {
          value: toGraphApproval(found.request.id, found.stages, found.assignedToMe).stages,
        };
      },
    );

    app.patch(
      `${approvalsPath}/:id/${segment}/:stageId`,
      {
        config: perCaller,
        schema: {
          tags: approvalTags,
          params: Type.Object({
            id: Type.String({ maxLength: 64 }),
            stageId: Type.String({ maxLength: 64 }),
          }),
          body: Type.Object(
            {
              '@odata.type': Type.Optional(Type.String({ maxLength: 200 })),
              reviewResult: Type.String({ maxLength: 20 }),
              justification: Type.Optional(
                Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
              ),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const result = request.body.reviewResult.toLowerCase();
        if (result !== 'approve' && result !== 'deny') {
          throw badRequest("reviewResult must be 'Approve' or 'Deny'.");
        }
        const justification = request.body.justification?.trim() || null;
        const outcome = await approvals.decide(
          actorOf(request),
          request.params.id,
          request.params.stageId,
          { reviewResult: result === 'approve' ? 'Approve' : 'Deny', justification },
        );
        if (outcome === 'obsolete') {
          throw conflict(
            'RoleAssignmentDoesNotExist',
            'The approval was recorded, but the requester is no longer eligible or already ' +
              'active, so nothing was granted and the request has failed.',
          );
        }
        return reply.status(204).send();
      },
    );
  }
};

function respond(
  publicUrl: string,
  page: { items: object[]; nextSkip: number | null; count: number | null },
  select: string[] | null,
  expand: Parameters<typeof applySelect>[2],
  context: string,
  url: string,
) {
  return collectionResponse(
    page.items.map((item) => applySelect(item, select, expand)),
    { context, count: page.count, nextLink: nextLinkFor(url, publicUrl, page.nextSkip) },
  );
}

function parseCurrentUser<T extends string>(value: string, allowed: readonly T[]): T {
  const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!match) throw badRequest(`on must be one of: ${allowed.join(', ')}.`);
  return match;
}

function pick(query: Record<string, unknown>, keys: string[]) {
  return Object.fromEntries(Object.entries(query).filter(([k]) => keys.includes(k)));
}

export function toGraphApproval(id: string, stages: StageRow[], assignedToMe: Set<string>) {
  return {
    '@odata.type': '#microsoft.graph.approval',
    id,
    stages: stages.map((stage) => ({
      id: stage.id,
      displayName: stages.length > 1 ? `Stage ${stage.stage_index + 1}` : null,
      status: stage.status === 'NotStarted' ? 'Initializing' : stage.status,
      assignedToMe: assignedToMe.has(stage.id),
      reviewedBy: stage.reviewed_by ? { id: stage.reviewed_by, displayName: null } : null,
      reviewedDateTime: stage.reviewed_at,
      reviewResult: stage.review_result,
      justification: stage.justification,
    })),
  };
}
