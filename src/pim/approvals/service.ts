import type { Kysely, Selectable } from 'kysely';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Db } from '../../db/database.js';
import type { Database, PimApprovalStageTable, StoredApprover } from '../../db/schema.js';
import type { AccessService } from '../../directory/access.js';
import { RoleIds } from '../../directory/roles.js';
import type { CallerActor } from '../../directory/service.js';
import { findGroup, findUser } from '../../directory/store.js';
import { badRequest, conflict, forbidden, notFound } from '../../http/errors.js';
import type { Notifier } from '../../notify/events.js';
import type { Clock } from '../../shared/clock.js';
import { isGuid, newId } from '../../shared/ids.js';
import { requestActivity, requestDetails, requestTargets } from '../activities.js';
import type { RequestRow, ScheduleRow } from '../schema.js';
import * as store from '../store.js';

export type StageRow = Selectable<PimApprovalStageTable>;

/** One stage of an approval as a policy asks for it. */
export interface StagePlan {
  approvers: StoredApprover[];
  timeoutDays: number;
  isApproverJustificationRequired: boolean;
}

export interface Decision {
  reviewResult: 'Approve' | 'Deny';
  justification: string | null;
}

/** How a decision ended; the route answers 409 for a grant that could no longer be made. */
export type DecisionOutcome = 'approved' | 'nextStage' | 'denied' | 'obsolete';

const DAY_MS = 24 * 60 * 60 * 1000;
const ADMINS = [RoleIds.globalAdministrator, RoleIds.privilegedRoleAdministrator];

/**
 * Approvals of activations (stages named by the group's policy, one or two in series) and of
 * extensions and renewals (one stage for the Global and Privileged Role Administrators). Who may
 * decide is worked out when they decide, never only when the request was made.
 */
export class ApprovalService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly access: AccessService,
    private readonly notifier: Notifier,
    /** Called after a decision commits: it may have made a new schedule or a new deadline. */
    private readonly afterCommit: () => void = () => {},
  ) {}

  /** Creates the stages of a new pending request; the first one starts its clock at once. */
  async open(trx: Kysely<Database>, request: RequestRow, stages: StagePlan[]): Promise<void> {
    const now = this.clock.now();
    await trx
      .insertInto('pim_approval_stages')
      .values(
        stages.map((stage, index) => ({
          id: index === 0 ? request.id : newId(),
          approval_id: request.id,
          stage_index: index,
          status: index === 0 ? ('InProgress' as const) : ('NotStarted' as const),
          approvers: JSON.stringify(stage.approvers),
          is_approver_justification_required: stage.isApproverJustificationRequired ? 1 : 0,
          timeout_days: stage.timeoutDays,
          expires_at: index === 0 ? deadline(now, stage.timeoutDays) : null,
          review_result: 'NotReviewed' as const,
          reviewed_by: null,
          reviewed_at: null,
          justification: null,
        })),
      )
      .execute();
  }

  /** The approval with its stages, for its requester, its principal and anyone who may decide. */
  async get(actor: CallerActor, approvalId: string) {
    const request = await this.findApprovalRequest(approvalId);
    const stages = await this.stagesOf(this.db.kysely, request.id);
    const mine = await this.assignedStages(actor, request, stages);
    const involved =
      request.created_by === actor.caller.userId ||
      request.principal_id === actor.caller.userId ||
      mine.size > 0 ||
      (await this.access.hasAnyRole(actor.caller.userId, [...ADMINS, RoleIds.globalReader]));
    if (!involved) throw notFound(`Approval '${approvalId.slice(0, 64)}' does not exist.`);

    return { request, stages, assignedToMe: mine };
  }

  /** Approvals with a stage that waits for the caller now. */
  async listMine(actor: CallerActor) {
    const now = this.clock.now().toISOString();
    const candidates = await this.db.kysely
      .selectFrom('pim_approval_stages as s')
      .innerJoin('pim_requests as r', 'r.id', 's.approval_id')
      .selectAll('r')
      .where('s.status', '=', 'InProgress')
      .where('s.expires_at', '>', now)
      .where('r.status', 'in', store.PENDING_STATUSES)
      .where('r.principal_id', '!=', actor.caller.userId)
      .where('r.created_by', '!=', actor.caller.userId)
      .orderBy('r.created_at')
      .execute();

    const mine: { request: RequestRow; stages: StageRow[]; assignedToMe: Set<string> }[] = [];
    for (const request of candidates) {
      const stages = await this.stagesOf(this.db.kysely, request.id);
      const assignedToMe = await this.assignedStages(actor, request, stages);
      if (assignedToMe.size > 0) mine.push({ request, stages, assignedToMe });
    }
    return mine;
  }

  /**
   * Records one approver's decision on the stage. The stage moves only from NotReviewed, in a
   * conditional update, so that of many approvers deciding at once exactly one wins and the rest
   * get 409. An approval completes the grant in the same transaction.
   */
  async decide(
    actor: CallerActor,
    approvalId: string,
    stageId: string,
    decision: Decision,
  ): Promise<DecisionOutcome> {
    const request = await this.findApprovalRequest(approvalId);

    const decided = await this.db.kysely.transaction().execute(async (trx) => {
      await store.lockGroupAccess(trx, this.db.dialect, request.group_id, request.access_id);
      const now = this.clock.now();
      const current = await trx
        .selectFrom('pim_requests')
        .selectAll()
        .where('id', '=', request.id)
        .executeTakeFirstOrThrow();
      const stages = await this.stagesOf(trx, request.id);
      const stage = stages.find((s) => s.id === stageId);
      if (!stage) throw notFound(`Stage '${stageId.slice(0, 64)}' does not exist.`);

      if (
        current.principal_id === actor.caller.userId ||
        current.created_by === actor.caller.userId
      ) {
        throw forbidden('Nobody may decide their own request.');
      }
      if (!(await this.mayDecide(trx, actor.caller.userId, stage))) {
        throw forbidden('You are not an approver of this stage.');
      }
      if (stage.status !== 'InProgress' || !isPending(current)) {
        throw conflict(
          'ApprovalAlreadyDecided',
          'This stage has already been decided, is closed, or is not open yet.',
        );
      }
      if (stage.expires_at !== null && stage.expires_at <= now.toISOString()) {
        throw conflict('ApprovalExpired', 'The time to decide this stage has passed.');
      }
      if (decision.justification === null && stage.is_approver_justification_required === 1) {
        throw badRequest('A justification is required to decide this stage.');
      }

      const won = await trx
        .updateTable('pim_approval_stages')
        .set({
          status: 'Completed',
          review_result: decision.reviewResult === 'Approve' ? 'Approved' : 'Denied',
          reviewed_by: actor.caller.userId,
          reviewed_at: now.toISOString(),
          justification: decision.justification,
        })
        .where('id', '=', stage.id)
        .where('status', '=', 'InProgress')
        .where('review_result', '=', 'NotReviewed')
        .executeTakeFirst();
      if (Number(won.numUpdatedRows) !== 1) {
        throw conflict('ApprovalAlreadyDecided', 'This stage has already been decided.');
      }

      // Claiming the request row makes a cancellation racing this decision wait for it, or, if
      // the cancellation committed first, makes this decision lose.
      const claimed = await store.transitionRequest(trx, current.id, store.PENDING_STATUSES, {
        status: current.status,
      });
      if (!claimed) {
        throw conflict('ApprovalAlreadyDecided', 'The request was canceled or decided meanwhile.');
      }

      const outcome = await this.conclude(trx, current, stages, stage, decision, now);
      await this.recordDecision(trx, actor, current, outcome, decision);
      await this.notifier.notify(trx, {
        type: 'approvalDecided',
        requestId: current.id,
        stageId: stage.id,
        outcome,
      });
      return outcome;
    });
    this.afterCommit();
    return decided;
  }

  /** Cancels a pending request of the caller's own; anyone else is told it does not exist. */
  async cancel(actor: CallerActor, kind: RequestRow['kind'], requestId: string): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      const request = await store.findRequest(trx, kind, requestId);
      const own =
        request &&
        (request.created_by === actor.caller.userId ||
          request.principal_id === actor.caller.userId);
      if (!request || !own) throw notFound(`Request '${requestId.slice(0, 64)}' does not exist.`);

      // The same lock as a decision takes first: a cancellation and a decision then run one
      // after the other instead of each holding a row the other needs, a deadlock on PostgreSQL.
      await store.lockGroupAccess(trx, this.db.dialect, request.group_id, request.access_id);
      const now = this.clock.now().toISOString();
      const moved = await store.transitionRequest(trx, request.id, store.PENDING_STATUSES, {
        status: 'Canceled',
        completed_at: now,
      });
      if (!moved) {
        throw conflict(
          'RequestNotPending',
          `The request is ${request.status}; only a pending request can be canceled.`,
        );
      }
      await trx
        .updateTable('pim_approval_stages')
        .set({ status: 'Completed' })
        .where('approval_id', '=', request.id)
        .where('status', 'in', ['InProgress', 'NotStarted'])
        .execute();

      await this.record(
        trx,
        actor,
        request,
        requestActivity(kind, request.action, request.access_id, 'canceled', false),
        'success',
      );
      await this.notifier.notify(trx, { type: 'requestCanceled', requestId: request.id });
    });
  }

  /**
   * Closes stages whose time has run out, and their requests, at most `limit` in one transaction,
   * oldest deadline first. Decisions already refuse such stages by their deadline, so this only
   * makes the outcome visible and audited. On PostgreSQL, stages another instance is closing are
   * skipped rather than waited for, so instances share the work.
   */
  async expireDue(limit = 500): Promise<number> {
    const now = this.clock.now().toISOString();
    return this.db.kysely.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('pim_approval_stages as s')
        .innerJoin('pim_requests as r', 'r.id', 's.approval_id')
        .selectAll('r')
        .select(['s.id as stage_id'])
        .where('s.status', '=', 'InProgress')
        .where('s.expires_at', '<=', now)
        .orderBy('s.expires_at')
        .limit(limit)
        .$if(this.db.dialect === 'postgres', (qb) => qb.forUpdate().skipLocked())
        .execute();

      for (const row of due) {
        const { stage_id: stageId, ...request } = row;
        await trx
          .updateTable('pim_approval_stages')
          .set({ status: 'Expired' })
          .where('id', '=', stageId)
          .where('status', '=', 'InProgress')
          .execute();
        const moved = await store.transitionRequest(trx, request.id, store.PENDING_STATUSES, {
          status: 'Canceled',
          completed_at: now,
        });
        if (moved) {
          await this.notifier.notify(trx, { type: 'requestExpired', requestId: request.id });
          await this.record(
            trx,
            { caller: null, correlationId: newId() },
            request,
            'PIM activation request expired',
            'failure',
          );
        }
      }
      return due.length;
    });
  }

  // Decisions

  private async conclude(
    trx: Kysely<Database>,
    request: RequestRow,
    stages: StageRow[],
    stage: StageRow,
    decision: Decision,
    now: Date,
  ): Promise<DecisionOutcome> {
    const iso = now.toISOString();
    if (decision.reviewResult === 'Deny') {
      await this.closeRemaining(trx, request.id);
      await store.transitionRequest(trx, request.id, store.PENDING_STATUSES, {
        status: 'Denied',
        completed_at: iso,
      });
      return 'denied';
    }

    const next = stages.find((s) => s.stage_index === stage.stage_index + 1);
    if (next) {
      await trx
        .updateTable('pim_approval_stages')
        .set({ status: 'InProgress', expires_at: deadline(now, next.timeout_days) })
        .where('id', '=', next.id)
        .execute();
      return 'nextStage';
    }

    const granted =
      request.status === 'PendingApproval'
        ? await this.grantActivation(trx, request, now)
        : await this.applyAdminDecision(trx, request, now);
    await store.transitionRequest(trx, request.id, store.PENDING_STATUSES, {
      status: granted ? 'Provisioned' : 'Failed',
      completed_at: iso,
      ...(granted ? { target_schedule_id: granted } : {}),
    });
    return granted ? 'approved' : 'obsolete';
  }

  /**
   * Grants an approved activation, if its principal is still eligible. It starts now, or at the
   * later start the principal asked for, and lasts the duration asked for.
   */
  private async grantActivation(trx: Kysely<Database>, request: RequestRow, now: Date) {
    const start =
      request.start_at && request.start_at > now.toISOString() ? new Date(request.start_at) : now;
    const end = endFrom(request, start);
    const key = {
      kind: 'eligibility' as const,
      groupId: request.group_id,
      principalId: request.principal_id,
      accessId: request.access_id,
    };
    const eligibilities = await store.liveSchedules(trx, key, now.toISOString());
    const eligibility = eligibilities.find(
      (e) =>
        e.start_at <= start.toISOString() &&
        (e.end_at === null || (end !== null && e.end_at >= end.toISOString())),
    );
    const active = await store.liveSchedules(
      trx,
      { ...key, kind: 'assignment' },
      now.toISOString(),
    );
    if (!eligibility || active.length > 0) return null;

    const id = `${request.group_id}_${request.access_id}_${request.id}`;
    const schedule: ScheduleRow = {
      id,
      kind: 'assignment',
      group_id: request.group_id,
      principal_id: request.principal_id,
      access_id: request.access_id,
      assignment_type: 'activated',
      member_type: 'direct',
      status: 'Provisioned',
      start_at: start.toISOString(),
      end_at: end ? end.toISOString() : null,
      expiration_type: request.expiration_type,
      created_using: request.id,
      activated_using: eligibility.id,
      activation_settings: null,
      created_at: now.toISOString(),
      modified_at: now.toISOString(),
    };
    await store.insertSchedule(trx, schedule);
    return id;
  }

  /** Applies an approved extension or renewal to the schedule it names. */
  private async applyAdminDecision(trx: Kysely<Database>, request: RequestRow, now: Date) {
    if (!request.target_schedule_id) return null;
    const target = await store.findSchedule(trx, request.kind, request.target_schedule_id);
    if (!target) return null;

    const iso = now.toISOString();
    if (request.action === 'selfExtend') {
      const stillLive =
        target.status === 'Provisioned' && (target.end_at === null || target.end_at > iso);
      if (!stillLive || !request.expiration_end) return null;
      await store.updateSchedule(trx, target.id, {
        end_at: request.expiration_end,
        modified_at: iso,
      });
      return target.id;
    }

    const end = endFrom(request, now);
    if (end !== null && end <= now) return null;
    const live = await store.liveSchedules(
      trx,
      {
        kind: request.kind,
        groupId: request.group_id,
        principalId: request.principal_id,
        accessId: request.access_id,
      },
      iso,
    );
    if (live.some((s) => s.kind === 'eligibility' || s.assignment_type === 'assigned')) return null;
    await store.updateSchedule(trx, target.id, {
      status: 'Provisioned',
      start_at: iso,
      end_at: end ? end.toISOString() : null,
      modified_at: iso,
    });
    return target.id;
  }

  private async closeRemaining(trx: Kysely<Database>, approvalId: string) {
    await trx
      .updateTable('pim_approval_stages')
      .set({ status: 'Completed' })
      .where('approval_id', '=', approvalId)
      .where('status', '=', 'NotStarted')
      .execute();
  }

  // Approvers

  /** The ids of the stages the caller may decide now. */
  private async assignedStages(actor: CallerActor, request: RequestRow, stages: StageRow[]) {
    const mine = new Set<string>();
    if (
      request.principal_id === actor.caller.userId ||
      request.created_by === actor.caller.userId
    ) {
      return mine;
    }
    for (const stage of stages) {
      if (
        stage.status === 'InProgress' &&
        (await this.mayDecide(this.db.kysely, actor.caller.userId, stage))
      ) {
        mine.add(stage.id);
      }
    }
    return mine;
  }

  /**
   * How many of the stages have nobody who could decide them now: no named user who still
   * exists and is enabled, and no named group with a member.
   */
  async undecidableStages(db: Kysely<Database>, stages: { approvers: StoredApprover[] }[]) {
    let undecidable = 0;
    for (const stage of stages) {
      let anyone = false;
      for (const approver of stage.approvers) {
        if (approver.kind === 'user') {
          const user = await findUser(db, approver.userId);
          anyone ||= user?.account_enabled === 1;
        } else if (approver.kind === 'group') {
          anyone ||= (await this.access.principalIdsOf(approver.groupId, 'member', db)).length > 0;
        } else {
          anyone = true;
        }
      }
      if (!anyone) undecidable++;
    }
    return undecidable;
  }

  private async mayDecide(db: Kysely<Database>, userId: string, stage: StageRow) {
    const approvers = JSON.parse(stage.approvers) as StoredApprover[];
    for (const approver of approvers) {
      if (approver.kind === 'user' && approver.userId === userId) return true;
      if (
        approver.kind === 'group' &&
        (await this.access.isInGroup(userId, approver.groupId, 'member', db))
      ) {
        return true;
      }
      if (
        approver.kind === 'administrators' &&
        (await this.access.hasAnyRole(userId, ADMINS, db))
      ) {
        return true;
      }
    }
    return false;
  }

  private stagesOf(db: Kysely<Database>, approvalId: string) {
    return db
      .selectFrom('pim_approval_stages')
      .selectAll()
      .where('approval_id', '=', approvalId)
      .orderBy('stage_index')
      .execute();
  }

  private async findApprovalRequest(approvalId: string): Promise<RequestRow> {
    const request = isGuid(approvalId)
      ? await this.db.kysely
          .selectFrom('pim_requests')
          .selectAll()
          .where('approval_id', '=', approvalId.toLowerCase())
          .executeTakeFirst()
      : undefined;
    if (!request) throw notFound(`Approval '${approvalId.slice(0, 64)}' does not exist.`);
    return request;
  }

  // Audit

  private async recordDecision(
    trx: Kysely<Database>,
    actor: CallerActor,
    request: RequestRow,
    outcome: DecisionOutcome,
    decision: Decision,
  ) {
    const activation = request.status === 'PendingApproval';
    const verb = decision.reviewResult === 'Approve' ? 'approved' : 'denied';
    const activity = activation
      ? `Add ${request.access_id} to role request ${verb} (PIM activation)`
      : `Update ${request.access_id} in PIM ${verb} by admin (extend/renew)`;
    await this.record(
      trx,
      actor,
      request,
      activity,
      outcome === 'obsolete' ? 'failure' : 'success',
      {
        approverJustification: decision.justification,
        outcome,
      },
    );
    if (outcome === 'approved' && activation) {
      await this.record(
        trx,
        actor,
        request,
        requestActivity(request.kind, request.action, request.access_id, 'completed', false),
        'success',
      );
    }
  }

  private async record(
    trx: Kysely<Database>,
    actor: CallerActor | { caller: null; correlationId: string },
    request: RequestRow,
    activity: string,
    result: 'success' | 'failure',
    extra: Record<string, string | null> = {},
  ) {
    const group = await findGroup(trx, request.group_id);
    const principal = await findUser(trx, request.principal_id);
    await this.audit.record(trx, actor, {
      category: 'GroupManagement',
      service: 'PIM',
      activity,
      operationType: 'Update',
      result,
      targets:
        group && principal
          ? requestTargets(group, principal, request.id)
          : [{ id: request.id, type: 'Request' }],
      details: { ...requestDetails(request), ...extra },
    });
  }
}

function isPending(request: RequestRow): boolean {
  return (store.PENDING_STATUSES as readonly string[]).includes(request.status);
}

function deadline(now: Date, days: number): string {
  return new Date(now.getTime() + days * DAY_MS).toISOString();
}

/** The end of a window that starts at `start`: its duration from there, or its fixed end. */
function endFrom(request: RequestRow, start: Date): Date | null {
  if (request.expiration_type === 'noExpiration') return null;
  if (request.expiration_type === 'afterDuration' && request.start_at && request.expiration_end) {
    const length = Date.parse(request.expiration_end) - Date.parse(request.start_at);
    return new Date(start.getTime() + length);
  }
  return request.expiration_end ? new Date(request.expiration_end) : null;
}
