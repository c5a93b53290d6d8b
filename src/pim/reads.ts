import type { Kysely } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database, ScheduleKind } from '../db/schema.js';
import type { CallerActor } from '../directory/service.js';
import { toGraphGroup, toGraphUser } from '../directory/schema.js';
import { findGroup, groupsByIds, usersByIds } from '../directory/store.js';
import { badRequest, forbidden } from '../http/errors.js';
import {
  findEquality,
  listPage,
  type CollectionSpec,
  type ExpandItem,
  type FieldSpec,
  type ODataQuery,
} from '../http/odata.js';
import { boundText } from '../db/prepared.js';
import type { Clock } from '../shared/clock.js';
import type { ApprovalService } from './approvals/service.js';
import { PimErrors } from './errors.js';
import type { PimPermissions } from './permissions.js';
import {
  toGraphInstance,
  toGraphRequest,
  toGraphSchedule,
  type RequestRow,
  type ScheduleRow,
} from './schema.js';
import { ACTIONS } from './service.js';
import { findRequest } from './store.js';

export type ScheduleView = 'schedules' | 'instances';
export type CurrentUserFilter = 'principal' | 'createdBy' | 'approver';

const guid = (column: string): FieldSpec => ({ column, type: 'guid' });
const ACCESS: FieldSpec = { column: 'access_id', type: 'enum', enumValues: ['member', 'owner'] };
const STATUSES = [
  'Canceled',
  'Denied',
  'Failed',
  'Granted',
  'PendingAdminDecision',
  'PendingApproval',
  'PendingProvisioning',
  'PendingScheduleCreation',
  'Provisioned',
  'Revoked',
  'ScheduleCreated',
  'Expired',
];
const STATUS: FieldSpec = { column: 'status', type: 'enum', enumValues: STATUSES };
const DATE = (column: string): FieldSpec => ({
  column,
  type: 'datetime',
  operators: ['eq', 'ne', 'gt', 'ge', 'lt', 'le'],
  sortable: true,
});

export const requestSpec: CollectionSpec = {
  fields: {
    id: guid('id'),
    status: STATUS,
    action: { column: 'action', type: 'enum', enumValues: ACTIONS },
    principalId: guid('principal_id'),
    groupId: guid('group_id'),
    accessId: ACCESS,
    targetScheduleId: { column: 'target_schedule_id', type: 'string' },
    approvalId: guid('approval_id'),
    'createdBy/user/id': guid('created_by'),
    createdDateTime: DATE('created_at'),
    completedDateTime: DATE('completed_at'),
  },
  selectable: [
    'id',
    'status',
    'action',
    'accessId',
    'principalId',
    'groupId',
    'targetScheduleId',
    'approvalId',
    'justification',
    'customData',
    'isValidationOnly',
    'createdDateTime',
    'completedDateTime',
    'createdBy',
    'scheduleInfo',
    'ticketInfo',
    'activationSettings',
  ],
  expandable: {
    principal: { selectable: ['id', 'displayName', 'userPrincipalName', 'mail'] },
    group: { selectable: ['id', 'displayName', 'mail', 'description'] },
    targetSchedule: {},
    activatedUsing: {},
  },
  defaultOrderBy: [
    { column: 'created_at', direction: 'desc' },
    { column: 'id', direction: 'asc' },
  ],
};

export const scheduleSpec: CollectionSpec = {
  fields: {
    id: { column: 'id', type: 'string' },
    status: STATUS,
    principalId: guid('principal_id'),
    groupId: guid('group_id'),
    accessId: ACCESS,
    memberType: { column: 'member_type', type: 'enum', enumValues: ['direct', 'group'] },
    assignmentType: {
      column: 'assignment_type',
      type: 'enum',
      enumValues: ['assigned', 'activated'],
    },
    createdUsing: guid('created_using'),
    startDateTime: DATE('start_at'),
    endDateTime: DATE('end_at'),
    assignmentScheduleId: { column: 'id', type: 'string' },
    eligibilityScheduleId: { column: 'id', type: 'string' },
  },
  selectable: [
    'id',
    'principalId',
    'groupId',
    'accessId',
    'memberType',
    'assignmentType',
    'status',
    'createdUsing',
    'createdDateTime',
    'modifiedDateTime',
    'scheduleInfo',
    'startDateTime',
    'endDateTime',
    'assignmentScheduleId',
    'eligibilityScheduleId',
    'activationSettings',
  ],
  expandable: {
    principal: { selectable: ['id', 'displayName', 'userPrincipalName', 'mail'] },
    group: { selectable: ['id', 'displayName', 'mail', 'description'] },
    activatedUsing: {},
  },
  defaultOrderBy: [
    { column: 'start_at', direction: 'asc' },
    { column: 'id', direction: 'asc' },
  ],
};

export interface Listed<T> {
  items: T[];
  nextSkip: number | null;
  count: number | null;
}

/**
 * The read side of PIM: requests, schedules and instances, visible to their principal, their
 * requester, the group's managers and the directory's readers. A request the caller may not see
 * answers 404, as if it did not exist, so that guessing ids reveals nothing.
 */
export class PimReads {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly permissions: PimPermissions,
    private readonly approvals: ApprovalService,
  ) {}

  async listRequests(
    actor: CallerActor,
    kind: ScheduleKind,
    query: ODataQuery,
    currentUser: CurrentUserFilter | null,
  ): Promise<Listed<object>> {
    let qb = this.db.kysely.selectFrom('pim_requests').selectAll().where('kind', '=', kind);
    if (currentUser === 'principal') qb = qb.where('principal_id', '=', actor.caller.userId);
    if (currentUser === 'createdBy') qb = qb.where('created_by', '=', actor.caller.userId);
    if (currentUser === 'approver') {
      const waiting = await this.approvals.listMine(actor);
      const ids = waiting.filter((w) => w.request.kind === kind).map((w) => w.request.id);
      qb = qb.where('id', 'in', ids.length > 0 ? ids : ['']);
    }
    if (currentUser === null) {
      const own = await this.scopeToReadable(actor, query);
      if (own) qb = qb.where('principal_id', '=', actor.caller.userId);
    }

    const page = await listPage(qb, query);
    const items = await this.expandRequests(page.items, query.expand);
    return { ...page, items };
  }

  async getRequest(actor: CallerActor, kind: ScheduleKind, id: string, expand: ExpandItem[]) {
    const request = await findRequest(this.db.kysely, kind, id);
    if (!request || !(await this.mayReadRequest(actor, request))) {
      throw PimErrors.requestNotFound(id);
    }
    const [item] = await this.expandRequests([request], expand);
    return item;
  }

  async listSchedules(
    actor: CallerActor,
    kind: ScheduleKind,
    view: ScheduleView,
    query: ODataQuery,
    currentUserOnly: boolean,
  ): Promise<Listed<object>> {
    let qb = this.liveQuery(this.db.kysely, kind, view);
    if (currentUserOnly || (await this.scopeToReadable(actor, query))) {
      qb = qb.where('principal_id', '=', boundText(actor.caller.userId));
    }

    const page = await listPage(qb, query);
    const items = await this.expandSchedules(page.items, view, query.expand);
    return { ...page, items };
  }

  async getSchedule(
    actor: CallerActor,
    kind: ScheduleKind,
    view: ScheduleView,
    id: string,
    expand: ExpandItem[],
  ) {
    const row = await this.liveQuery(this.db.kysely, kind, view)
      .where('id', '=', id)
      .executeTakeFirst();
    const visible =
      row &&
      (row.principal_id === actor.caller.userId || (await this.mayReadGroup(actor, row.group_id)));
    if (!row || !visible) throw PimErrors.scheduleNotFound(id);

    const [item] = await this.expandSchedules([row], view, expand);
    return item;
  }

  /**
   * Schedules are the live plan: in effect now or later. Instances are what is in effect at this
   * very moment, so an assignment vanishes from them at its end without any job running.
   */
  private liveQuery(db: Kysely<Database>, kind: ScheduleKind, view: ScheduleView) {
    const now = this.clock.now().toISOString();
    let qb = db
      .selectFrom('pim_schedules')
      .selectAll()
      .where('kind', '=', boundText(kind))
      .where('status', '=', boundText('Provisioned'))
      .where((eb) => eb.or([eb('end_at', 'is', null), eb('end_at', '>', boundText(now))]));
    if (view === 'instances') qb = qb.where('start_at', '<=', boundText(now));
    return qb;
  }

  /**
   * Lists need `groupId eq` or `principalId eq` in their filter, as in Graph. The answer is true
   * when the caller may see only its own rows.
   */
  private async scopeToReadable(actor: CallerActor, query: ODataQuery): Promise<boolean> {
    const groupId = findEquality(query.filter, 'groupId');
    const principalId = findEquality(query.filter, 'principalId');
    if (typeof groupId !== 'string' && typeof principalId !== 'string') {
      throw badRequest("$filter must name groupId eq '{id}' or principalId eq '{id}'.");
    }

    if (principalId === actor.caller.userId) return true;
    if (typeof groupId === 'string' && (await this.mayReadGroup(actor, groupId))) return false;
    if (await this.permissions.canRead(actor.caller, null)) return false;
    throw forbidden('You may read only your own assignments and those of groups you manage.');
  }

  private async mayReadGroup(actor: CallerActor, groupId: string): Promise<boolean> {
    const group = await findGroup(this.db.kysely, groupId);
    return this.permissions.canRead(actor.caller, group ?? null);
  }

  private async mayReadRequest(actor: CallerActor, request: RequestRow): Promise<boolean> {
    const caller = actor.caller.userId;
    if (request.principal_id === caller || request.created_by === caller) return true;
    if (await this.mayReadGroup(actor, request.group_id)) return true;

    const waiting = await this.approvals.listMine(actor);
    return waiting.some((w) => w.request.id === request.id);
  }

  // Expansion

  private async expandRequests(rows: RequestRow[], expand: ExpandItem[]) {
    const names = new Set(expand.map((e) => e.name));
    const related = await this.related(rows, names);
    const targets = names.has('targetSchedule')
      ? await this.schedulesByIds(rows.map((r) => r.target_schedule_id))
      : new Map<string, ScheduleRow>();
    const creators = await usersByIds(this.db.kysely, [...new Set(rows.map((r) => r.created_by))]);
    const creatorNames = new Map(creators.map((u) => [u.id, u.display_name]));

    return rows.map((row) => {
      const target = row.target_schedule_id ? targets.get(row.target_schedule_id) : undefined;
      return {
        ...toGraphRequest(row, creatorNames.get(row.created_by) ?? null),
        ...related(row),
        ...(names.has('targetSchedule')
          ? { targetSchedule: target ? toGraphSchedule(target) : null }
          : {}),
      };
    });
  }

  private async expandSchedules(rows: ScheduleRow[], view: ScheduleView, expand: ExpandItem[]) {
    const names = new Set(expand.map((e) => e.name));
    const related = await this.related(rows, names);
    const eligibilities = names.has('activatedUsing')
      ? await this.schedulesByIds(rows.map((r) => r.activated_using))
      : new Map<string, ScheduleRow>();

    return rows.map((row) => {
      const source = row.activated_using ? eligibilities.get(row.activated_using) : undefined;
      const shape = view === 'instances' ? toGraphInstance(row) : toGraphSchedule(row);
      return {
        ...shape,
        ...related(row),
        ...(names.has('activatedUsing')
          ? {
              activatedUsing: source
                ? view === 'instances'
                  ? toGraphInstance(source)
                  : toGraphSchedule(source)
                : null,
            }
          : {}),
      };
    });
  }

  /** `principal` and `group` for each row, loaded in two queries for the whole page. */
  private async related(
    rows: { principal_id: string; group_id: string }[],
    names: Set<string>,
  ): Promise<(row: { principal_id: string; group_id: string }) => object> {
    const users = names.has('principal')
      ? await usersByIds(this.db.kysely, [...new Set(rows.map((r) => r.principal_id))])
      : [];
    const groups = names.has('group')
      ? await groupsByIds(this.db.kysely, [...new Set(rows.map((r) => r.group_id))])
      : [];
    const userMap = new Map(users.map((u) => [u.id, toGraphUser(u)]));
    const groupMap = new Map(groups.map((g) => [g.id, toGraphGroup(g)]));

    return (row) => ({
      ...(names.has('principal') ? { principal: userMap.get(row.principal_id) ?? null } : {}),
      ...(names.has('group') ? { group: groupMap.get(row.group_id) ?? null } : {}),
    });
  }

  private async schedulesByIds(ids: (string | null)[]): Promise<Map<string, ScheduleRow>> {
    const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
    if (wanted.length === 0) return new Map();
    const rows = await this.db.kysely
      .selectFrom('pim_schedules')
      .selectAll()
      .where('id', 'in', wanted)
      .execute();
    return new Map(rows.map((r) => [r.id, r]));
  }
}
