import type { Kysely } from 'kysely';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/database.js';
import type { AccessId, Database, ScheduleKind } from '../db/schema.js';
import { findGroup, findUser, type GroupRow, type UserRow } from '../directory/store.js';
import type { CallerActor } from '../directory/service.js';
import { hasMfa } from '../http/caller.js';
import { dueTimesOf } from '../jobs/due.js';
import { badRequest, GraphError } from '../http/errors.js';
import type { Notifier } from '../notify/events.js';
import type { Clock } from '../shared/clock.js';
import { isGuid, newId } from '../shared/ids.js';
import { requestActivity, requestDetails, requestTargets } from './activities.js';
import type { ApprovalService, StagePlan } from './approvals/service.js';
import { PimErrors, type RuleFailure } from './errors.js';
import type { PimPermissions } from './permissions.js';
import type { PolicyView, Requirements } from './policies/model.js';
import type { PolicyService } from './policies/service.js';
import { loadPolicyRules } from './policies/store.js';
import {
  readActivationSettings,
  type RequestBody,
  type RequestRow,
  type ScheduleRow,
  type StoredActivationSettings,
} from './schema.js';
import * as store from './store.js';
import { checkExpiration, readWindow, type RequestedWindow } from './window.js';

export const ACTIONS = [
  'adminAssign',
  'adminUpdate',
  'adminRemove',
  'adminExtend',
  'adminRenew',
  'selfActivate',
  'selfDeactivate',
  'selfExtend',
  'selfRenew',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Self-service actions that an eligibility request may not carry. */
const ASSIGNMENT_ONLY: readonly Action[] = ['selfActivate', 'selfDeactivate'];

export interface WindowsConfig {
  extensionWindowDays: number;
  renewalWindowDays: number;
}

/** Everything a request needs, loaded once inside its transaction. */
interface Context {
  trx: Kysely<Database>;
  actor: CallerActor;
  kind: ScheduleKind;
  action: Action;
  accessId: AccessId;
  group: GroupRow;
  principal: UserRow;
  policy: PolicyView;
  body: RequestBody;
  now: Date;
  key: store.ScheduleKey;
}

/** What a request will do once its rules pass; nothing is written until then. */
interface Plan {
  status: 'Provisioned' | 'Revoked' | 'PendingApproval' | 'PendingAdminDecision';
  window: RequestedWindow;
  failures: RuleFailure[];
  /** The schedule the request creates, changes or ends. */
  target: ScheduleRow | null;
  /** Makes the change; a plan that creates a schedule answers it as written. */
  apply: (request: RequestRow) => Promise<ScheduleRow | void>;
  stages?: StagePlan[];
  /** The eligibility an activation is made from. */
  eligibility?: ScheduleRow;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The PIM request engine: every eligibility and assignment request of every group goes through
 * `submit`, which checks the caller's rights and the group's policy, collects every failed rule,
 * and writes the request, its schedule, its approval and its audit event in one transaction.
 */
export class RequestService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly permissions: PimPermissions,
    private readonly policies: PolicyService,
    private readonly approvals: ApprovalService,
    private readonly windows: WindowsConfig,
    private readonly notifier: Notifier,
    /**
     * Called after a request commits, with the due times of the schedule it created; without
     * them when it changed one in place, whose old due times the jobs loop must look up again.
     */
    private readonly afterCommit: (dueAt?: readonly Date[]) => void = () => {},
  ) {}

  async submit(actor: CallerActor, kind: ScheduleKind, body: RequestBody) {
    const action = parseAction(body.action, kind);
    const accessId = parseAccessId(body.accessId);
    const groupId = parseGuid(body.groupId, 'groupId');
    const principalId = parseGuid(body.principalId, 'principalId');
    const key = { kind, groupId, principalId, accessId };

    try {
      const { created, ...submitted } = await this.db.kysely.transaction().execute(async (trx) => {
        const now = this.clock.now();
        const group = await findGroup(trx, groupId);
        if (!group) throw PimErrors.groupNotFound(groupId);
        const principal = await findUser(trx, principalId);
        if (!principal) throw PimErrors.subjectNotFound(principalId);

        await this.authorize(trx, actor, action, group, accessId, principalId);
        const policy = await this.lockedPolicy(trx, actor, group, accessId, body);

        const context: Context = {
          trx,
          actor,
          kind,
          action,
          accessId,
          group,
          principal,
          policy,
          body,
          now,
          key,
        };
        const plan = await this.plan(context);
        if (plan.failures.length > 0) throw PimErrors.policyValidationFailed(plan.failures);

        const request = this.requestRow(context, plan);
        if (body.isValidationOnly) return { request, validationOnly: true };

        await store.insertRequest(trx, request);
        const created = await plan.apply(request);
        if (plan.stages) await this.approvals.open(trx, request, plan.stages);
        await this.recordRequest(trx, actor, context, request, plan);
        await this.notifier.notify(
          trx,
          { type: 'requestCreated', requestId: request.id },
          {
            request,
            schedules: [created, plan.eligibility].filter((row) => row !== undefined),
            group,
            users: [principal],
            policy,
          },
        );
        return { request, validationOnly: false, created };
      });
      if (!submitted.validationOnly) {
        this.afterCommit(created ? dueTimesOf(created) : undefined);
      }
      return submitted;
    } catch (error) {
      if (error instanceof GraphError && !body.isValidationOnly) {
        await this.recordRefusal(actor, key, action, body, error);
      }
      throw error;
    }
  }

  /**
   * Takes the group's write lock and reads its policy, once for the whole request. The group's
   * first request onboards it (unless it only validates), which creates the policy row to lock.
   */
  private async lockedPolicy(
    trx: Kysely<Database>,
    actor: CallerActor,
    group: GroupRow,
    accessId: AccessId,
    body: RequestBody,
  ): Promise<PolicyView> {
    let policyId = await store.lockPolicy(trx, this.db.dialect, group.id, accessId);
    if (policyId === undefined && !body.isValidationOnly) {
      await this.policies.onboard(trx, actor, group.id);
      policyId = await store.lockPolicy(trx, this.db.dialect, group.id, accessId);
    }
    return loadPolicyRules(trx, group.id, accessId, policyId);
  }

  /** Admin actions need a manager of the group; self actions need the principal itself. */
  private async authorize(
    trx: Kysely<Database>,
    actor: CallerActor,
    action: Action,
    group: GroupRow,
    accessId: AccessId,
    principalId: string,
  ): Promise<void> {
    if (action.startsWith('self')) {
      if (principalId !== actor.caller.userId) throw PimErrors.actingForSomeoneElse();
      return;
    }
    await this.permissions.requireManager(actor.caller, group, accessId, principalId, trx);
  }

  private plan(context: Context): Promise<Plan> {
    switch (context.action) {
      case 'adminAssign':
        return this.planAssign(context);
      case 'adminUpdate':
        return this.planUpdate(context);
      case 'adminRemove':
        return this.planRemove(context);
      case 'adminExtend':
        return this.planExtend(context, 'admin');
      case 'adminRenew':
        return this.planRenew(context, 'admin');
      case 'selfActivate':
        return this.planActivate(context);
      case 'selfDeactivate':
        return this.planDeactivate(context);
      case 'selfExtend':
        return this.planExtend(context, 'self');
      case 'selfRenew':
        return this.planRenew(context, 'self');
    }
  }

  // Administrators' actions

  private async planAssign(context: Context): Promise<Plan> {
    const { trx, key, now, body } = context;
    const setting = this.adminSetting(context);
    const window = readWindow(body.scheduleInfo, now, { durationMs: null });

    const live = await store.liveSchedules(trx, key, iso(now));
    if (live.some((s) => context.kind === 'eligibility' || s.assignment_type === 'assigned')) {
      throw PimErrors.assignmentExists();
    }

    const failures = [...checkExpiration(window, setting), ...checkRequirements(context, setting)];
    const settings = this.activationSettings(context);
    return {
      status: 'Provisioned',
      window,
      failures,
      target: null,
      apply: async (request) => {
        const schedule = this.newSchedule(context, request, window, settings);
        await store.insertSchedule(trx, schedule);
        return schedule;
      },
    };
  }

  private async planUpdate(context: Context): Promise<Plan> {
    const { trx, now, body } = context;
    const target = await this.findTarget(context);
    const setting = this.adminSetting(context);
    const window = body.scheduleInfo
      ? readWindow(body.scheduleInfo, now, { durationMs: null })
      : scheduleWindow(target);

    const failures = [...checkExpiration(window, setting), ...checkRequirements(context, setting)];
    const settings =
      body.activationSettings === undefined
        ? readActivationSettings(target.activation_settings)
        : this.activationSettings(context);
    return {
      status: 'Provisioned',
      window,
      failures,
      target,
      apply: async () => {
        await store.updateSchedule(trx, target.id, {
          start_at: iso(window.start),
          end_at: window.end ? iso(window.end) : null,
          expiration_type: window.expirationType,
          activation_settings: context.kind === 'eligibility' ? JSON.stringify(settings) : null,
          modified_at: iso(now),
        });
      },
    };
  }

  private async planRemove(context: Context): Promise<Plan> {
    const { trx, now } = context;
    const target = await this.findTarget(context);
    const setting = this.adminSetting(context);

    return {
      status: 'Revoked',
      window: scheduleWindow(target),
      failures: checkRequirements(context, { ...setting, ticket: false }),
      target,
      apply: async () => {
        await store.revokeSchedule(trx, target.id, iso(now));

        // Access made from an eligibility must not outlive it: its activations end with it.
        if (target.kind === 'eligibility') {
          for (const activation of await store.liveActivationsOf(trx, target.id, iso(now))) {
            await store.revokeSchedule(trx, activation.id, iso(now));
          }
        }
      },
    };
  }

  private async planExtend(context: Context, by: 'admin' | 'self'): Promise<Plan> {
    const { trx, now, body } = context;
    const target = await this.findTarget(context, { timeBound: true });
    const setting = this.adminSetting(context);
    const requested = readWindow(body.scheduleInfo, now, { durationMs: null });
    const window = { ...requested, start: new Date(target.start_at) };

    if (window.end !== null && target.end_at !== null && window.end <= new Date(target.end_at)) {
      throw badRequest('An extension must end later than the assignment ends now.');
    }
    const failures = checkExpiration(window, setting, now);
    const endsIn = new Date(target.end_at ?? 0).getTime() - now.getTime();
    const outsideWindow = endsIn > this.windows.extensionWindowDays * DAY_MS;

    return this.extensionPlan(context, by, window, failures, target, {
      outside: outsideWindow && {
        rule: 'ExtensionWindowRule',
        reason:
          'An assignment can be extended only within ' +
          `${this.windows.extensionWindowDays} days of its end.`,
      },
      apply: async () => {
        await store.updateSchedule(trx, target.id, {
          end_at: window.end ? iso(window.end) : null,
          expiration_type: window.expirationType,
          modified_at: iso(now),
        });
      },
    });
  }

  private async planRenew(context: Context, by: 'admin' | 'self'): Promise<Plan> {
    const { trx, key, now, body } = context;
    const live = await store.liveSchedules(trx, key, iso(now));
    if (live.some((s) => s.kind === 'eligibility' || s.assignment_type === 'assigned')) {
      throw PimErrors.assignmentExists();
    }
    const ended = await store.lastEndedSchedule(trx, key, iso(now));
    if (!ended || (ended.kind === 'assignment' && ended.assignment_type !== 'assigned')) {
      throw PimErrors.assignmentDoesNotExist('there is no ended assignment to renew.');
    }

    const setting = this.adminSetting(context);
    const window = readWindow(body.scheduleInfo, now, { durationMs: null });
    const failures = checkExpiration(window, setting);
    const endedAgo = now.getTime() - new Date(ended.end_at ?? 0).getTime();
    const outsideWindow = endedAgo > this.windows.renewalWindowDays * DAY_MS;

    return this.extensionPlan(context, by, window, failures, ended, {
      outside: outsideWindow && {
        rule: 'RenewalWindowRule',
        reason:
          'An assignment can be renewed only within ' +
          `${this.windows.renewalWindowDays} days after it ended.`,
      },
      apply: async () => {
        await store.updateSchedule(trx, ended.id, {
          status: 'Provisioned',
          start_at: iso(window.start),
          end_at: window.end ? iso(window.end) : null,
          expiration_type: window.expirationType,
          modified_at: iso(now),
        });
      },
    });
  }

  /**
   * An administrator's extension or renewal applies at once. A principal's own, if asked inside
   * its window, waits for an administrator's decision; asking needs only the justification, since
   * the administrator who decides is the check.
   */
  private extensionPlan(
    context: Context,
    by: 'admin' | 'self',
    window: RequestedWindow,
    failures: RuleFailure[],
    target: ScheduleRow,
    change: { outside: RuleFailure | false; apply: () => Promise<void> },
  ): Plan {
    const setting = this.adminSetting(context);
    if (by === 'admin') {
      failures.push(...checkRequirements(context, setting));
      return { status: 'Provisioned', window, failures, target, apply: change.apply };
    }

    if (change.outside) failures.push(change.outside);
    failures.push(...checkRequirements(context, { ...setting, mfa: false, ticket: false }));
    return {
      status: 'PendingAdminDecision',
      window,
      failures,
      target,
      apply: async () => {},
      stages: [
        {
          approvers: [{ kind: 'administrators' }],
          timeoutDays: 1,
          isApproverJustificationRequired: false,
        },
      ],
    };
  }

  // Principals' own actions

  private async planActivate(context: Context): Promise<Plan> {
    const { trx, key, now, body, policy } = context;
    const setting = policy.activation;
    const window = readWindow(body.scheduleInfo, now, { durationMs: setting.maximumDurationMs });

    const live = await store.liveSchedulesOfBothKinds(trx, key, iso(now));
    if (live.some((s) => s.kind === 'assignment')) throw PimErrors.assignmentExists();
    if ((await store.pendingRequests(trx, key)).length > 0) throw PimErrors.pendingRequest();

    const eligibilities = live.filter((s) => s.kind === 'eligibility');
    const eligibility = coveringEligibility(eligibilities, window);
    const settings = readActivationSettings(eligibility?.activation_settings ?? null);
    const requirements: Requirements = {
      ...setting,
      mfa: setting.mfa || settings.isMfaRequired === true,
    };
    const failures = [
      ...(eligibility ? [] : [eligibilityFailure(context, eligibilities)]),
      ...checkExpiration(window, setting),
      ...checkRequirements(context, requirements),
    ];

    const approval = setting.approval;
    if (approval.required && eligibility) {
      // A request nobody can decide would only wait for its timeout: say so at once instead.
      const undecidable = await this.approvals.undecidableStages(trx, approval.stages);
      if (approval.stages.length === 0 || undecidable > 0) {
        failures.push({
          rule: 'ApprovalRule',
          reason: 'The policy requires approval, but no approver of it can decide now.',
        });
      }
      return {
        status: 'PendingApproval',
        window,
        failures,
        target: null,
        apply: async () => {},
        stages: approval.stages.map((stage) => ({
          approvers: stage.approvers,
          timeoutDays: stage.timeoutDays,
          isApproverJustificationRequired: stage.isApproverJustificationRequired,
        })),
        eligibility,
      };
    }

    return {
      status: 'Provisioned',
      window,
      failures,
      target: null,
      apply: async (request) => {
        const schedule = {
          ...this.newSchedule(context, request, window, null),
          activated_using: eligibility?.id ?? null,
        };
        await store.insertSchedule(trx, schedule);
        return schedule;
      },
      eligibility,
    };
  }

  private async planDeactivate(context: Context): Promise<Plan> {
    const { trx, key, now } = context;
    const live = await store.liveSchedules(trx, key, iso(now));
    const activation = live.find((s) => s.assignment_type === 'activated');
    if (!activation) throw PimErrors.assignmentDoesNotExist('there is no activation to end.');

    return {
      status: 'Revoked',
      window: scheduleWindow(activation),
      failures: [],
      target: activation,
      apply: async () => store.revokeSchedule(trx, activation.id, iso(now)),
    };
  }

  // Helpers

  /** The schedule an admin or extend request acts on: by `targetScheduleId`, or its key. */
  private async findTarget(context: Context, options: { timeBound?: boolean } = {}) {
    const { trx, key, now, body, kind } = context;
    const live = await store.liveSchedules(trx, key, iso(now));
    const candidates = live.filter(
      (s) =>
        kind === 'eligibility' ||
        context.action === 'adminRemove' ||
        s.assignment_type === 'assigned',
    );
    const target = body.targetScheduleId
      ? candidates.find((s) => s.id === body.targetScheduleId)
      : candidates[0];
    if (!target) throw PimErrors.assignmentDoesNotExist(`no current ${kind} for this principal.`);
    if (options.timeBound && target.end_at === null) {
      throw badRequest('A permanent assignment has no end to extend.');
    }
    return target;
  }

  private adminSetting(context: Context) {
    return context.kind === 'eligibility'
      ? context.policy.eligibleAssignment
      : context.policy.activeAssignment;
  }

  private activationSettings(context: Context): StoredActivationSettings {
    const given = context.body.activationSettings;
    if (context.kind !== 'eligibility') {
      if (given) throw badRequest('activationSettings apply to eligibility requests only.');
      return readActivationSettings(null);
    }
    return parseActivationSettings(given ?? null);
  }

  private newSchedule(
    context: Context,
    request: RequestRow,
    window: RequestedWindow,
    settings: StoredActivationSettings | null,
  ): ScheduleRow {
    const now = iso(context.now);
    const activated = context.action === 'selfActivate';
    return {
      id: request.target_schedule_id ?? `${context.group.id}_${context.accessId}_${request.id}`,
      kind: context.kind,
      group_id: context.group.id,
      principal_id: context.principal.id,
      access_id: context.accessId,
      assignment_type:
        context.kind === 'assignment' ? (activated ? 'activated' : 'assigned') : null,
      member_type: 'direct',
      status: 'Provisioned',
      start_at: iso(window.start),
      end_at: window.end ? iso(window.end) : null,
      expiration_type: window.expirationType,
      created_using: request.id,
      activated_using: null,
      activation_settings: settings ? JSON.stringify(settings) : null,
      created_at: now,
      modified_at: now,
    };
  }

  private requestRow(context: Context, plan: Plan): RequestRow {
    const { body, now } = context;
    const id = newId();
    const pending = plan.status === 'PendingApproval' || plan.status === 'PendingAdminDecision';
    const creates = context.action === 'adminAssign' || context.action === 'selfActivate';
    const targetScheduleId = creates
      ? `${context.group.id}_${context.accessId}_${id}`
      : (plan.target?.id ?? null);
    const settings =
      context.kind === 'eligibility' && body.activationSettings
        ? JSON.stringify(parseActivationSettings(body.activationSettings))
        : null;

    return {
      id,
      kind: context.kind,
      action: context.action,
      status: plan.status,
      group_id: context.group.id,
      principal_id: context.principal.id,
      access_id: context.accessId,
      justification: body.justification ?? null,
      ticket_number: body.ticketInfo?.ticketNumber ?? null,
      ticket_system: body.ticketInfo?.ticketSystem ?? null,
      custom_data: body.customData ?? null,
      start_at: iso(plan.window.start),
      expiration_type: plan.window.expirationType,
      expiration_end: plan.window.end ? iso(plan.window.end) : null,
      expiration_duration: plan.window.duration,
      activation_settings: settings,
      created_by: context.actor.caller.userId,
      created_at: iso(now),
      completed_at: pending ? null : iso(now),
      approval_id: pending ? id : null,
      target_schedule_id: pending && creates ? null : targetScheduleId,
    };
  }

  private async recordRequest(
    trx: Kysely<Database>,
    actor: Actor,
    context: Context,
    request: RequestRow,
    plan: Plan,
  ): Promise<void> {
    const pending = plan.status === 'PendingApproval' || plan.status === 'PendingAdminDecision';
    const phase = pending
      ? plan.status === 'PendingApproval'
        ? 'approval requested'
        : 'requested'
      : 'completed';
    await this.audit.record(trx, actor, {
      category: 'GroupManagement',
      service: 'PIM',
      activity: requestActivity(
        context.kind,
        context.action,
        context.accessId,
        phase,
        plan.window.end === null,
      ),
      operationType:
        context.action.endsWith('Remove') || context.action.endsWith('Deactivate')
          ? 'Unassign'
          : 'Assign',
      result: 'success',
      targets: requestTargets(context.group, context.principal, request.id),
      details: requestDetails(request),
    });
  }

  /** A refused request leaves no request row, but it does leave an audit event. */
  private async recordRefusal(
    actor: CallerActor,
    key: store.ScheduleKey,
    action: Action,
    body: RequestBody,
    error: GraphError,
  ): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      const group = await findGroup(trx, key.groupId);
      const principal = await findUser(trx, key.principalId);
      await this.audit.record(trx, actor, {
        category: 'GroupManagement',
        service: 'PIM',
        activity: requestActivity(key.kind, action, key.accessId, 'requested', false),
        operationType: 'Other',
        result: 'failure',
        resultReason: `${error.code}: ${error.message}`.slice(0, 1000),
        targets: [
          { id: key.groupId, type: 'Group', displayName: group?.display_name ?? null },
          {
            id: key.principalId,
            type: 'User',
            displayName: principal?.display_name ?? null,
            userPrincipalName: principal?.user_principal_name ?? null,
          },
        ],
        details: {
          justification: body.justification,
          ticketNumber: body.ticketInfo?.ticketNumber,
          ticketSystem: body.ticketInfo?.ticketSystem,
          accessId: key.accessId,
        },
      });
    });
  }
}

/**
 * The eligibility that allows an activation of `window`: in effect at its start and lasting to
 * its end. Only eligibility made directly to the principal counts.
 */
function coveringEligibility(
  eligibilities: readonly ScheduleRow[],
  window: { start: Date; end: Date | null },
): ScheduleRow | undefined {
  return eligibilities.find(
    (e) =>
      new Date(e.start_at) <= window.start &&
      (e.end_at === null || (window.end !== null && new Date(e.end_at) >= window.end)),
  );
}

function eligibilityFailure(context: Context, eligibilities: readonly ScheduleRow[]): RuleFailure {
  const first = eligibilities[0];
  return {
    rule: 'EligibilityRule',
    reason: first
      ? `Your eligibility runs from ${first.start_at} to ${first.end_at ?? 'no end'}; ` +
        'the activation must fit inside it.'
      : `You are not eligible for ${context.accessId} of this group.`,
  };
}

/** The window a schedule has now, as a request about it reports. */
function scheduleWindow(schedule: ScheduleRow): RequestedWindow {
  return {
    start: new Date(schedule.start_at),
    end: schedule.end_at ? new Date(schedule.end_at) : null,
    expirationType: schedule.end_at ? 'afterDateTime' : 'noExpiration',
    duration: null,
  };
}

/** The enablement rules: justification, ticket and multi-factor authentication. */
function checkRequirements(context: Context, requirements: Requirements): RuleFailure[] {
  const { body, actor } = context;
  const failures: RuleFailure[] = [];
  if (requirements.justification && !body.justification?.trim()) {
    failures.push({ rule: 'JustificationRule', reason: 'A justification is required.' });
  }
  if (requirements.ticket && !body.ticketInfo?.ticketNumber?.trim()) {
    failures.push({ rule: 'TicketingRule', reason: 'A ticket number is required.' });
  }
  if (requirements.mfa && !hasMfa(actor.caller)) {
    failures.push({
      rule: 'MfaRule',
      reason: 'Multi-factor authentication is required: sign in again with your one-time code.',
    });
  }
  return failures;
}

function parseAction(value: string, kind: ScheduleKind): Action {
  const action = ACTIONS.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!action) {
    throw badRequest(`action must be one of ${ACTIONS.join(', ')}.`);
  }
  if (kind === 'eligibility' && ASSIGNMENT_ONLY.includes(action)) {
    throw PimErrors.badAction(value, kind);
  }
  return action;
}

function parseAccessId(value: string): AccessId {
  const lower = value.toLowerCase();
  if (lower !== 'member' && lower !== 'owner') {
    throw badRequest("accessId must be 'member' or 'owner'.");
  }
  return lower;
}

function parseGuid(value: string, field: string): string {
  if (!isGuid(value)) throw badRequest(`${field} must be a GUID.`);
  return value.toLowerCase();
}

const LEVELS = { none: 'None', critical: 'Critical', all: 'All' } as const;
const MAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

function parseActivationSettings(
  given: RequestBody['activationSettings'] | null,
): StoredActivationSettings {
  const level = given?.notificationLevel;
  const parsedLevel = level ? LEVELS[level.toLowerCase() as keyof typeof LEVELS] : null;
  if (level && !parsedLevel) {
    throw badRequest("activationSettings.notificationLevel must be 'None', 'Critical' or 'All'.");
  }

  const recipients = (given?.additionalRecipients ?? []).map((r) => r.trim().toLowerCase());
  const bad = recipients.find((r) => !MAIL.test(r));
  if (bad !== undefined) {
    throw badRequest('activationSettings.additionalRecipients must be email addresses.');
  }

  return {
    isMfaRequired: given?.isMfaRequired ?? null,
    notificationLevel: parsedLevel ?? null,
    additionalRecipients: [...new Set(recipients)],
  };
}

function iso(date: Date): string {
  return date.toISOString();
}
