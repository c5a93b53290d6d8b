import type { Kysely } from 'kysely';
import { boundText, prepared } from '../db/prepared.js';
import type { Database, StoredApprover } from '../db/schema.js';
import { slices } from '../db/slices.js';
import type { AccessService } from '../directory/access.js';
import { findGroup, findUser, type UserRow } from '../directory/store.js';
import type { NotificationLevel, NotificationRuleId, PolicyView } from '../pim/policies/model.js';
import { loadPolicies, loadPolicy, policyKey } from '../pim/policies/store.js';
import {
  readActivationSettings,
  type RequestRow,
  type ScheduleRow,
  type StoredActivationSettings,
} from '../pim/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { KnownRows, NotificationEvent, Notifier } from './events.js';
import { addressBook, addressesFrom, Recipients } from './recipients.js';
import { insertMessages, type OutboxRow } from './store.js';
import {
  renderMessage,
  type Audience,
  type MessageFacts,
  type Person,
  type Template,
} from './templates.js';

type Db = Kysely<Database>;

export interface OutboxNotifierOptions {
  clock: Clock;
  access: AccessService;
  /** Base of the links in emails. */
  publicUrl: string;
  /** The right-hand side of every Message-ID. */
  domain: string;
}

/** Addresses per email; more recipients get more emails, up to `MAX_MESSAGES` of them. */
export const MAX_RECIPIENTS = 100;
const MAX_MESSAGES = 10;

/** One email to write: to whom (by rule), worded how, and whether it is critical. */
interface Send {
  audience: Audience;
  template: Template;
  /**
   * Critical emails need their recipient to act, or tell them they lost access: an approval to
   * give, a request denied or expired, an assignment removed, ending in a day, or ended. The
   * `Critical` level sends only these; `All` sends every email.
   */
  critical: boolean;
  /** The rule's default recipients, as user ids. */
  defaults: string[];
}

/** What one event is about, loaded once for all its emails. */
interface Situation {
  eventType: NotificationEvent['type'];
  correlationId: string;
  policy: PolicyView;
  /** Which three notification rules apply: the admins', the requestor's and the approvers'. */
  caller: 'Admin' | 'EndUser';
  level: 'Eligibility' | 'Assignment';
  /**
   * The eligibility's own settings, for its activations and its reminders: they replace the
   * policy's level for the admins and the requestor, and add recipients to the admins' email.
   */
  personal: StoredActivationSettings | null;
  facts: Omit<MessageFacts, 'template' | 'audience'>;
  principalId: string;
  /** Never asked to approve, nor told about approvals: the requester and the principal. */
  requesterIds: string[];
}

/**
 * Turns PIM events into emails in the outbox, inside the transaction of their cause. Who gets
 * what follows the group's nine notification rules (`Notification_{Admin|Requestor|Approver}_
 * {Admin|EndUser}_{Eligibility|Assignment}`): the admins are the group's owners and the Global
 * and Privileged Role Administrators (the rule's default recipients) plus the rule's own
 * recipients; the requestor is the principal; the approvers are those of the waiting stage.
 */
export class OutboxNotifier implements Notifier {
  private readonly recipients: Recipients;
  private readonly shared = new WeakMap<Db, Map<string, Promise<unknown>>>();

  constructor(private readonly options: OutboxNotifierOptions) {
    this.recipients = new Recipients(options.access);
  }

  notify(trx: Db, event: NotificationEvent, known: KnownRows = {}): Promise<void> {
    return this.notifyMany(trx, [event], known);
  }

  /**
   * Plans each event's emails in turn, exactly as `notify` would one at a time, and writes them
   * all at the end with a few multi-row inserts. The events share their reads: the rows in
   * `known`, the requests that made their schedules (read together), and each group's policy,
   * admins and roles, read once per transaction.
   */
  async notifyMany(
    trx: Db,
    events: readonly NotificationEvent[],
    known: KnownRows = {},
  ): Promise<void> {
    this.learn(trx, known);
    const batch = await this.batchOf(trx, events, known);

    const emails: Email[] = [];
    for (const event of events) {
      const planned =
        event.type === 'assignmentEnding' || event.type === 'assignmentEnded'
          ? await this.planReminder(trx, event, batch)
          : await this.planRequest(trx, event, known);
      if (!planned) continue;

      for (const send of planned.sends) {
        const email = emailOf(planned.situation, send);
        if (email) emails.push(email);
      }
    }

    const book = await addressBook(
      trx,
      emails.flatMap((email) => (email.rule.isDefaultRecipientsEnabled ? email.send.defaults : [])),
    );
    await insertMessages(
      trx,
      emails.flatMap((email) => this.rowsOf(email, book)),
    );
  }

  // Deciding what to send

  private async planRequest(
    trx: Db,
    event: Exclude<NotificationEvent, { type: 'assignmentEnding' | 'assignmentEnded' }>,
    known: KnownRows,
  ) {
    const request =
      known.request?.id === event.requestId
        ? known.request
        : await trx
            .selectFrom('pim_requests')
            .selectAll()
            .where('id', '=', event.requestId)
            .executeTakeFirst();
    if (!request) return null;
    // Stages belong to an approval, whose id is its request's: a request without one has none.
    const stages =
      request.approval_id === null
        ? []
        : await trx
            .selectFrom('pim_approval_stages')
            .selectAll()
            .where('approval_id', '=', request.id)
            .orderBy('stage_index')
            .execute();
    const decided =
      event.type === 'approvalDecided' ? stages.find((s) => s.id === event.stageId) : undefined;
    const actorId =
      decided?.reviewed_by ?? (event.type === 'requestExpired' ? null : request.created_by);
    const situation = await this.requestSituation(trx, event.type, request, actorId, known);
    if (!situation) return null;
    if (decided) {
      situation.facts.decision = {
        approved: decided.review_result === 'Approved',
        justification: decided.justification,
      };
    }

    const approversOf = (stage: (typeof stages)[number] | undefined) =>
      stage
        ? this.approverIds(trx, situation, JSON.parse(stage.approvers) as StoredApprover[])
        : [];
    const admins = () => this.admins(trx, request.group_id);
    const principal = [request.principal_id];
    const activation = request.action === 'selfActivate' || request.action === 'selfDeactivate';
    const sends: Send[] = [];
    const send = (audience: Audience, template: Template, critical: boolean, defaults: string[]) =>
      sends.push({ audience, template, critical, defaults });

    switch (event.type) {
      case 'requestCreated':
        if (request.status === 'PendingApproval' || request.status === 'PendingAdminDecision') {
          send('approver', 'approvalNeeded', true, await approversOf(waitingStage(stages)));
          send('requestor', 'approvalRequested', false, principal);
        } else if (request.action === 'selfActivate') {
          send('admin', 'activated', false, await admins());
          send('requestor', 'activated', false, principal);
        } else if (request.action === 'selfDeactivate') {
          send('admin', 'deactivated', false, await admins());
          send('requestor', 'deactivated', false, principal);
        } else {
          const template = adminTemplate(request.action);
          send('admin', template, false, await admins());
          // Losing an assignment is critical for its principal; being given one is not.
          send('requestor', template, template === 'removed', principal);
        }
        break;

      case 'approvalDecided': {
        const others = (await approversOf(decided)).filter((id) => id !== decided?.reviewed_by);
        if (event.outcome === 'approved') {
          send('requestor', 'approved', false, principal);
          // An approved activation is an activation; an approved extension changes an assignment.
          if (activation) {
            send('admin', 'activated', false, await admins());
            send('approver', 'decidedByOther', false, others);
          } else {
            send('admin', 'changed', false, await admins());
          }
        } else if (event.outcome === 'nextStage') {
          send('requestor', 'stageApproved', false, principal);
          send('approver', 'approvalNeeded', true, await approversOf(waitingStage(stages)));
          send('approver', 'decidedByOther', false, others);
        } else {
          send('requestor', event.outcome === 'denied' ? 'denied' : 'notGranted', true, principal);
          send('approver', 'decidedByOther', false, others);
        }
        break;
      }

      case 'requestCanceled':
        send('requestor', 'canceled', false, principal);
        send('approver', 'canceled', false, await approversOf(waitingStage(stages)));
        break;

      case 'requestExpired':
        send('requestor', 'expired', true, principal);
        send(
          'approver',
          'expired',
          false,
          await approversOf(stages.find((s) => s.status === 'Expired')),
        );
        break;
    }
    return { situation, sends };
  }

  private async planReminder(
    trx: Db,
    event: Extract<NotificationEvent, { type: 'assignmentEnding' | 'assignmentEnded' }>,
    batch: Batch,
  ) {
    const schedule =
      batch.schedules.get(event.scheduleId) ?? (await findScheduleById(trx, event.scheduleId));
    if (!schedule) return null;
    const situation = await this.scheduleSituation(trx, event.type, schedule, batch);
    if (!situation) return null;

    const admins = await this.admins(trx, schedule.group_id);
    const principal = [schedule.principal_id];
    const sends: Send[] =
      event.type === 'assignmentEnding'
        ? [
            {
              audience: 'requestor',
              template: 'ending',
              critical: event.daysLeft === 1,
              defaults: principal,
            },
            { audience: 'admin', template: 'ending', critical: false, defaults: admins },
          ]
        : [
            { audience: 'requestor', template: 'ended', critical: true, defaults: principal },
            { audience: 'admin', template: 'ended', critical: false, defaults: admins },
          ];
    if (event.type === 'assignmentEnding') situation.facts.daysLeft = event.daysLeft;
    return { situation, sends };
  }

  // Loading what the emails say

  private async requestSituation(
    trx: Db,
    eventType: NotificationEvent['type'],
    request: RequestRow,
    actorId: string | null,
    known: KnownRows,
  ): Promise<Situation | null> {
    const schedule = (id: string) =>
      known.schedules?.find((row) => row.id === id) ?? findScheduleById(trx, id);
    const target = request.target_schedule_id
      ? await schedule(request.target_schedule_id)
      : undefined;
    const settled = request.status === 'Provisioned' || request.status === 'Revoked';
    const activation =
      request.action === 'selfActivate' ||
      request.action === 'selfDeactivate' ||
      (request.kind === 'assignment' && target?.assignment_type === 'activated');
    const eligibility = activation
      ? await (target?.activated_using
          ? schedule(target.activated_using)
          : this.eligibilityOf(trx, request))
      : undefined;

    return this.situation(trx, {
      eventType,
      correlationId: request.id,
      groupId: request.group_id,
      accessId: request.access_id,
      principalId: request.principal_id,
      actorId,
      caller: activation ? 'EndUser' : 'Admin',
      level: request.kind === 'eligibility' ? 'Eligibility' : 'Assignment',
      personal: eligibility ? readActivationSettings(eligibility.activation_settings) : null,
      subject:
        request.kind === 'eligibility' ? 'eligibility' : activation ? 'activation' : 'assignment',
      requestAction:
        request.action === 'selfExtend'
          ? 'extend'
          : request.action === 'selfRenew'
            ? 'renew'
            : request.action === 'selfActivate'
              ? 'activate'
              : null,
      request,
      // A completed request tells the schedule as it is now; any other, the window it asked for.
      start: settled && target ? target.start_at : request.start_at,
      end: settled && target ? target.end_at : request.expiration_end,
      requesterIds: [request.principal_id, request.created_by],
    });
  }

  private async scheduleSituation(
    trx: Db,
    eventType: NotificationEvent['type'],
    schedule: ScheduleRow,
    batch: Batch,
  ): Promise<Situation | null> {
    const activation = schedule.kind === 'assignment' && schedule.assignment_type === 'activated';
    const eligibility =
      schedule.kind === 'eligibility'
        ? schedule
        : activation && schedule.activated_using
          ? await findScheduleById(trx, schedule.activated_using)
          : undefined;
    const request = batch.requests
      ? batch.requests.get(schedule.created_using)
      : await trx
          .selectFrom('pim_requests')
          .selectAll()
          .where('id', '=', schedule.created_using)
          .executeTakeFirst();

    return this.situation(trx, {
      eventType,
      correlationId: schedule.id,
      groupId: schedule.group_id,
      accessId: schedule.access_id,
      principalId: schedule.principal_id,
      actorId: null,
      caller: activation ? 'EndUser' : 'Admin',
      level: schedule.kind === 'eligibility' ? 'Eligibility' : 'Assignment',
      personal: eligibility ? readActivationSettings(eligibility.activation_settings) : null,
      subject:
        schedule.kind === 'eligibility' ? 'eligibility' : activation ? 'activation' : 'assignment',
      requestAction: null,
      request: request ?? null,
      start: schedule.start_at,
      end: schedule.end_at,
      requesterIds: [schedule.principal_id],
    });
  }

  private async situation(
    trx: Db,
    given: Pick<
      Situation,
      | 'eventType'
      | 'correlationId'
      | 'caller'
      | 'level'
      | 'personal'
      | 'principalId'
      | 'requesterIds'
    > &
      Pick<MessageFacts, 'subject' | 'requestAction' | 'start' | 'end' | 'accessId'> & {
        groupId: string;
        actorId: string | null;
        request: RequestRow | null;
      },
  ): Promise<Situation | null> {
    const group = await this.remember(trx, `group:${given.groupId}`, () =>
      findGroup(trx, given.groupId),
    );
    const principal = await this.remember(trx, `user:${given.principalId}`, () =>
      findUser(trx, given.principalId),
    );
    // A group or principal deleted since leaves nobody to tell about it.
    if (!group || !principal) return null;
    const actorId = given.actorId;
    const actor = actorId
      ? await this.remember(trx, `user:${actorId}`, () => findUser(trx, actorId))
      : undefined;
    const policy = await this.remember(trx, `policy:${group.id}:${given.accessId}`, () =>
      loadPolicy(trx, group.id, given.accessId),
    );
    const roles = await this.remember(trx, `roles:${group.id}`, () => roleNamesOf(trx, group.id));
    const request = given.request;

    return {
      eventType: given.eventType,
      correlationId: given.correlationId,
      policy,
      caller: given.caller,
      level: given.level,
      personal: given.personal,
      principalId: given.principalId,
      requesterIds: given.requesterIds,
      facts: {
        subject: given.subject,
        requestAction: given.requestAction,
        accessId: given.accessId,
        group: { id: group.id, displayName: group.display_name },
        roles,
        principal: person(principal),
        actor: actor ? person(actor) : null,
        justification: request?.justification ?? null,
        ticket: request?.ticket_number
          ? { number: request.ticket_number, system: request.ticket_system }
          : null,
        start: given.start,
        end: given.end,
        requestId: request?.id ?? null,
        daysLeft: null,
        decision: null,
      },
    };
  }

  /** The eligibility an activation would be made from now. */
  private eligibilityOf(trx: Db, request: RequestRow) {
    const now = this.options.clock.now().toISOString();
    return trx
      .selectFrom('pim_schedules')
      .selectAll()
      .where('kind', '=', 'eligibility')
      .where('group_id', '=', request.group_id)
      .where('principal_id', '=', request.principal_id)
      .where('access_id', '=', request.access_id)
      .where('status', '=', 'Provisioned')
      .where((eb) => eb.or([eb('end_at', 'is', null), eb('end_at', '>', now)]))
      .orderBy('start_at')
      .executeTakeFirst();
  }

  /**
   * The group's owners, then the Global and Privileged Role Administrators. The administrators
   * are the same for every group, so they are read once per transaction.
   */
  private admins(trx: Db, groupId: string): Promise<string[]> {
    return this.remember(trx, `admins:${groupId}`, async () => [
      ...(await this.remember(trx, `owners:${groupId}`, () =>
        this.recipients.owners(trx, groupId),
      )),
      ...(await this.remember(trx, 'roleHolders', () => this.recipients.roleHolders(trx))),
    ]);
  }

  /**
   * What the events of one call share: the schedules `known` holds, by id, and, for reminders
   * about them, the requests that made them and their groups' owners, policies and roles, each
   * read in one query instead of one per schedule or group.
   */
  private async batchOf(
    trx: Db,
    events: readonly NotificationEvent[],
    known: KnownRows,
  ): Promise<Batch> {
    const schedules = new Map((known.schedules ?? []).map((row) => [row.id, row]));
    const requestIds = new Set<string>();
    for (const event of events) {
      if (event.type !== 'assignmentEnding' && event.type !== 'assignmentEnded') continue;
      const schedule = schedules.get(event.scheduleId);
      // A schedule not given is read on its own, and so is its request.
      if (!schedule) return { schedules, requests: null };
      requestIds.add(schedule.created_using);
    }
    if (requestIds.size === 0) return { schedules, requests: null };
    await this.learnGroups(
      trx,
      events.flatMap((event) => {
        const schedule = 'scheduleId' in event ? schedules.get(event.scheduleId) : undefined;
        return schedule ? [schedule] : [];
      }),
    );

    const requests = new Map<string, RequestRow>();
    for (const slice of slices([...requestIds])) {
      const rows = await trx
        .selectFrom('pim_requests')
        .selectAll()
        .where('id', 'in', slice)
        .execute();
      for (const row of rows) requests.set(row.id, row);
    }
    return { schedules, requests };
  }

  /**
   * Reads what `situation` and `admins` need of the schedules' groups, and this transaction has
   * not read yet, together: their owners, their roles and the policies of the schedules' access.
   */
  private async learnGroups(trx: Db, schedules: readonly ScheduleRow[]): Promise<void> {
    const entries = this.entriesOf(trx);
    if (!entries) return;
    const keep = (key: string, value: unknown) => entries.set(key, Promise.resolve(value));
    const groupIds = [...new Set(schedules.map((s) => s.group_id))];

    const owners = groupIds.filter((id) => !entries.has(`owners:${id}`));
    for (const [id, ids] of await this.recipients.ownersOfGroups(trx, owners)) {
      keep(`owners:${id}`, ids);
    }

    const roles = groupIds.filter((id) => !entries.has(`roles:${id}`));
    for (const [id, names] of await roleNamesOfGroups(trx, roles)) keep(`roles:${id}`, names);

    const policies = schedules
      .map((s) => ({ groupId: s.group_id, accessId: s.access_id }))
      .filter((p) => !entries.has(`policy:${p.groupId}:${p.accessId}`));
    const views = await loadPolicies(trx, policies);
    for (const { groupId, accessId } of policies) {
      keep(`policy:${groupId}:${accessId}`, views.get(policyKey(groupId, accessId)));
    }
  }

  private async approverIds(trx: Db, situation: Situation, approvers: StoredApprover[]) {
    const ids = await this.recipients.approvers(trx, approvers);
    return ids.filter((id) => !situation.requesterIds.includes(id));
  }

  /**
   * Keeps the rows the event's cause already holds as this transaction's reads, so that
   * `situation` finds them instead of reading them again.
   */
  private learn(trx: Db, known: KnownRows): void {
    const entries = this.entriesOf(trx);
    if (!entries) return;

    const keep = (key: string, row: unknown) => entries.set(key, Promise.resolve(row));
    for (const group of [...(known.groups ?? []), ...(known.group ? [known.group] : [])]) {
      keep(`group:${group.id}`, group);
    }
    for (const user of known.users ?? []) keep(`user:${user.id}`, user);
    if (known.policy) keep(`policy:${known.policy.groupId}:${known.policy.accessId}`, known.policy);
  }

  /**
   * Reads that the notifications of one transaction share, such as a jobs batch of many schedules
   * of one group: each is made once per transaction. Outside a transaction nothing is kept, so
   * nothing can go stale.
   */
  private remember<T>(trx: Db, key: string, load: () => Promise<T>): Promise<T> {
    const entries = this.entriesOf(trx);
    if (!entries) return load();
    let found = entries.get(key) as Promise<T> | undefined;
    if (!found) {
      found = load();
      entries.set(key, found);
    }
    return found;
  }

  private entriesOf(trx: Db): Map<string, Promise<unknown>> | undefined {
    if (!trx.isTransaction) return undefined;
    let entries = this.shared.get(trx);
    if (!entries) {
      entries = new Map();
      this.shared.set(trx, entries);
    }
    return entries;
  }

  // Writing

  /** The outbox rows of one email: one per `MAX_RECIPIENTS` addresses, or none. */
  private rowsOf(email: Email, book: ReadonlyMap<string, string>): OutboxRow[] {
    const { situation, send, rule, personal } = email;
    const addresses = uniqueAddresses([
      ...(rule.isDefaultRecipientsEnabled ? addressesFrom(book, send.defaults) : []),
      ...rule.recipients,
      ...(send.audience === 'admin' && personal ? personal.additionalRecipients : []),
    ]);
    if (addresses.length === 0) return [];

    const rendered = renderMessage(
      { ...situation.facts, template: send.template, audience: send.audience },
      this.options.publicUrl,
    );
    const now = this.options.clock.now().toISOString();
    const rows: OutboxRow[] = [];
    for (
      let i = 0;
      i < Math.min(addresses.length, MAX_RECIPIENTS * MAX_MESSAGES);
      i += MAX_RECIPIENTS
    ) {
      const id = newId();
      rows.push({
        id,
        message_id: `<${id}@${this.options.domain}>`,
        event_type: situation.eventType,
        template: `${send.audience}.${send.template}`,
        correlation_id: situation.correlationId,
        to_addresses: JSON.stringify(addresses.slice(i, i + MAX_RECIPIENTS)),
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        last_error: null,
        created_at: now,
        sent_at: null,
      });
    }
    return rows;
  }
}

/** Reads that the events of one `notifyMany` call share, and nothing outside it. */
interface Batch {
  schedules: Map<string, ScheduleRow>;
  /** The requests that made the schedules reminded of, or null to read each on its own. */
  requests: Map<string, RequestRow> | null;
}

/** An email the rules let through, before its recipients are read. */
interface Email {
  situation: Situation;
  send: Send;
  rule: PolicyView['notifications'][NotificationRuleId];
  /** The eligibility's own settings, where they apply to this audience. */
  personal: StoredActivationSettings | null;
}

/** The email of a send, or null when its rule's level (or the eligibility's) leaves it out. */
function emailOf(situation: Situation, send: Send): Email | null {
  const rule = situation.policy.notifications[ruleId(send.audience, situation)];
  const personal = send.audience === 'approver' ? null : situation.personal;
  const level: NotificationLevel = personal?.notificationLevel ?? rule.level;
  if (level === 'None' || (level === 'Critical' && !send.critical)) return null;
  return { situation, send, rule, personal };
}

/** The notification rule for an audience, from the situation's caller and level. */
function ruleId(audience: Audience, situation: Situation): NotificationRuleId {
  const recipient =
    audience === 'admin' ? 'Admin' : audience === 'requestor' ? 'Requestor' : 'Approver';
  // End users act only on assignments (activations): there is no EndUser Eligibility rule.
  return situation.caller === 'EndUser'
    ? `Notification_${recipient}_EndUser_Assignment`
    : `Notification_${recipient}_Admin_${situation.level}`;
}

function adminTemplate(action: string): Template {
  if (action === 'adminAssign') return 'assigned';
  return action === 'adminRemove' ? 'removed' : 'changed';
}

/** The stage that waits, or waited when the request closed: the first one nobody reviewed. */
function waitingStage<T extends { review_result: string }>(stages: T[]): T | undefined {
  return stages.find((stage) => stage.review_result === 'NotReviewed');
}

// Anything that could break a header or an address list is refused outright.
const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

function uniqueAddresses(addresses: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const address of addresses) {
    const trimmed = address.trim();
    if (ADDRESS.test(trimmed) && !seen.has(trimmed.toLowerCase())) {
      seen.set(trimmed.toLowerCase(), trimmed);
    }
  }
  return [...seen.values()];
}

function person(user: UserRow): Person {
  return { displayName: user.display_name, userPrincipalName: user.user_principal_name };
}

function findScheduleById(trx: Db, id: string) {
  return trx.selectFrom('pim_schedules').selectAll().where('id', '=', id).executeTakeFirst();
}

async function roleNamesOf(trx: Db, groupId: string): Promise<string[]> {
  const { rows } = await roleNamesQuery(trx, { groupId });
  return [...new Set(rows.map((row) => row.display_name))];
}

/**
 * The role names of each of the groups, as `roleNamesOf` reads them one group at a time with a
 * statement prepared once, which no list of varying length can share.
 */
async function roleNamesOfGroups(trx: Db, groupIds: string[]): Promise<Map<string, string[]>> {
  const names = new Map<string, Set<string>>(groupIds.map((id) => [id, new Set()]));
  for (const slice of slices(groupIds)) {
    const rows = await trx
      .selectFrom('role_assignments')
      .innerJoin('role_definitions', 'role_definitions.id', 'role_assignments.role_definition_id')
      .select(['role_assignments.principal_id', 'role_definitions.display_name'])
      .where('role_assignments.principal_id', 'in', slice)
      .orderBy('role_definitions.display_name')
      .execute();
    for (const row of rows) names.get(row.principal_id)?.add(row.display_name);
  }
  return new Map([...names].map(([id, set]) => [id, [...set]]));
}

const roleNamesQuery = prepared<{ groupId: string }, { display_name: string }>((db, arg) =>
  db
    .selectFrom('role_assignments')
    .innerJoin('role_definitions', 'role_definitions.id', 'role_assignments.role_definition_id')
    .select('role_definitions.display_name')
    .where('role_assignments.principal_id', '=', boundText(arg('groupId')))
    .orderBy('role_definitions.display_name'),
);
