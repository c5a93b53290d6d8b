import { useState, type FormEvent } from 'react';
import { getAll, patch, query } from '../api';
import type {
  AccessId,
  ApprovalRule,
  ApprovalStageSetting,
  EnablementRule,
  EnablementValue,
  ExpirationRule,
  Group,
  NotificationLevel,
  NotificationRule,
  PolicyAssignment,
  PolicyRule,
  SubjectSet,
  User,
} from '../graph';
import { loadPolicy, ruleOf } from '../pim';
import { DAY_MS, HOUR_MS, isoDurationMs } from '../time';
import { LoadState, NoticeLine, errorNotice, useLoad, type Notice } from './ui';

interface Directory {
  users: User[];
  groups: Group[];
}

async function loadForm(groupId: string, accessId: AccessId) {
  const [policy, users, groups] = await Promise.all([
    loadPolicy(groupId, accessId),
    getAll<User>(`/v1.0/users${query({ $top: '999', $orderby: 'displayName' })}`),
    getAll<Group>(`/v1.0/groups${query({ $top: '999', $orderby: 'displayName' })}`),
  ]);
  if (!policy) throw new Error("You don't have permission to read this group's settings.");
  return { policy, directory: { users, groups } };
}

/**
 * Every rule of one policy (the group's member or owner settings) as one form. Saving sends only
 * the rules that changed, one PATCH each, and says which were saved.
 */
export function PolicyForm(props: { groupId: string; accessId: AccessId }) {
  const loaded = useLoad(
    () => loadForm(props.groupId, props.accessId),
    [props.groupId, props.accessId],
  );
  return (
    <LoadState loaded={loaded}>
      {({ policy, directory }) => (
        <PolicyEditor
          policy={policy}
          directory={directory}
          accessId={props.accessId}
          onSaved={loaded.reload}
        />
      )}
    </LoadState>
  );
}

const NOTIFICATIONS: { id: string; label: string }[] = [
  { id: 'Notification_Admin_Admin_Eligibility', label: 'Eligible assignment: to admins' },
  { id: 'Notification_Requestor_Admin_Eligibility', label: 'Eligible assignment: to the assignee' },
  { id: 'Notification_Approver_Admin_Eligibility', label: 'Eligible assignment: to approvers' },
  { id: 'Notification_Admin_Admin_Assignment', label: 'Active assignment: to admins' },
  { id: 'Notification_Requestor_Admin_Assignment', label: 'Active assignment: to the assignee' },
  { id: 'Notification_Approver_Admin_Assignment', label: 'Active assignment: to approvers' },
  { id: 'Notification_Admin_EndUser_Assignment', label: 'Activation: to admins' },
  { id: 'Notification_Requestor_EndUser_Assignment', label: 'Activation: to the requestor' },
  { id: 'Notification_Approver_EndUser_Assignment', label: 'Activation: to approvers' },
];

interface StageState {
  timeoutDays: number;
  approverJustification: boolean;
  approvers: SubjectSet[];
}

interface NotificationState {
  level: NotificationLevel;
  defaults: boolean;
  recipients: string;
}

interface FormState {
  activationHours: string;
  activationMfa: boolean;
  activationJustification: boolean;
  activationTicket: boolean;
  approval: boolean;
  stages: StageState[];
  eligibleExpires: boolean;
  eligibleDays: string;
  eligibleMfa: boolean;
  eligibleJustification: boolean;
  eligibleTicket: boolean;
  activeExpires: boolean;
  activeDays: string;
  activeMfa: boolean;
  activeJustification: boolean;
  notifications: Record<string, NotificationState>;
}

function fromRules(rules: PolicyRule[]): FormState {
  const expiration = (id: string) => ruleOf<ExpirationRule>(rules, id);
  const enabled = (id: string) => ruleOf<EnablementRule>(rules, id)?.enabledRules ?? [];
  const days = (id: string) => {
    const ms = isoDurationMs(expiration(id)?.maximumDuration);
    return ms ? String(Math.round(ms / DAY_MS)) : '365';
  };
  const approval = ruleOf<ApprovalRule>(rules, 'Approval_EndUser_Assignment')?.setting;
  const activation = isoDurationMs(expiration('Expiration_EndUser_Assignment')?.maximumDuration);

  return {
    activationHours: String(activation ? activation / HOUR_MS : 8),
    activationMfa: enabled('Enablement_EndUser_Assignment').includes('MultiFactorAuthentication'),
    activationJustification: enabled('Enablement_EndUser_Assignment').includes('Justification'),
    activationTicket: enabled('Enablement_EndUser_Assignment').includes('Ticketing'),
    approval: approval?.isApprovalRequired ?? false,
    stages: (approval?.approvalStages ?? []).map((stage) => ({
      timeoutDays: stage.approvalStageTimeOutInDays,
      approverJustification: stage.isApproverJustificationRequired,
      approvers: stage.primaryApprovers,
    })),
    eligibleExpires: expiration('Expiration_Admin_Eligibility')?.isExpirationRequired ?? true,
    eligibleDays: days('Expiration_Admin_Eligibility'),
    eligibleMfa: enabled('Enablement_Admin_Eligibility').includes('MultiFactorAuthentication'),
    eligibleJustification: enabled('Enablement_Admin_Eligibility').includes('Justification'),
    eligibleTicket: enabled('Enablement_Admin_Eligibility').includes('Ticketing'),
    activeExpires: expiration('Expiration_Admin_Assignment')?.isExpirationRequired ?? true,
    activeDays: days('Expiration_Admin_Assignment'),
    activeMfa: enabled('Enablement_Admin_Assignment').includes('MultiFactorAuthentication'),
    activeJustification: enabled('Enablement_Admin_Assignment').includes('Justification'),
    notifications: Object.fromEntries(
      NOTIFICATIONS.map(({ id }) => {
        const rule = ruleOf<NotificationRule>(rules, id);
        return [
          id,
          {
            level: rule?.notificationLevel ?? 'All',
            defaults: rule?.isDefaultRecipientsEnabled ?? true,
            recipients: (rule?.notificationRecipients ?? []).join(', '),
          },
        ];
      }),
    ),
  };
}

function enabledRules(flags: [boolean, EnablementValue][]): EnablementValue[] {
  return flags.filter(([on]) => on).map(([, value]) => value);
}

/** The rules as the form says they should be; unchanged rules come out equal to the old ones. */
function toRules(rules: PolicyRule[], form: FormState): PolicyRule[] {
  return rules.map((rule): PolicyRule => {
    switch (rule.id) {
      case 'Expiration_EndUser_Assignment':
        return {
          ...(rule as ExpirationRule),
          isExpirationRequired: true,
          maximumDuration: hoursDuration(form.activationHours),
        };
      case 'Enablement_EndUser_Assignment':
        return {
          ...(rule as EnablementRule),
          enabledRules: enabledRules([
            [form.activationMfa, 'MultiFactorAuthentication'],
            [form.activationJustification, 'Justification'],
            [form.activationTicket, 'Ticketing'],
          ]),
        };
      case 'Approval_EndUser_Assignment': {
        const old = (rule as ApprovalRule).setting;
        const stages: ApprovalStageSetting[] = form.stages.map((stage, index) => ({
          ...(old.approvalStages[index] ?? {
            escalationTimeInMinutes: 0,
            isEscalationEnabled: false,
            escalationApprovers: [],
          }),
          approvalStageTimeOutInDays: stage.timeoutDays,
          isApproverJustificationRequired: stage.approverJustification,
          primaryApprovers: stage.approvers,
        }));
        return {
          ...(rule as ApprovalRule),
          setting: {
            ...old,
            isApprovalRequired: form.approval,
            approvalMode: stages.length > 1 ? 'Serial' : 'SingleStage',
            approvalStages: stages,
          },
        };
      }
      case 'Expiration_Admin_Eligibility':
        return expirationRule(rule as ExpirationRule, form.eligibleExpires, form.eligibleDays);
      case 'Expiration_Admin_Assignment':
        return expirationRule(rule as ExpirationRule, form.activeExpires, form.activeDays);
      case 'Enablement_Admin_Eligibility':
        return {
          ...(rule as EnablementRule),
          enabledRules: enabledRules([
            [form.eligibleMfa, 'MultiFactorAuthentication'],
            [form.eligibleJustification, 'Justification'],
            [form.eligibleTicket, 'Ticketing'],
          ]),
        };
      case 'Enablement_Admin_Assignment':
        return {
          ...(rule as EnablementRule),
          enabledRules: enabledRules([
            [form.activeMfa, 'MultiFactorAuthentication'],
            [form.activeJustification, 'Justification'],
          ]),
        };
      default: {
        const notification = form.notifications[rule.id];
        if (!notification) return rule;
        return {
          ...(rule as NotificationRule),
          notificationLevel: notification.level,
          isDefaultRecipientsEnabled: notification.defaults,
          notificationRecipients: notification.recipients
            .split(/[\s,;]+/)
            .map((r) => r.trim())
            .filter(Boolean),
        };
      }
    }
  });
}

function hoursDuration(hours: string): string {
  const minutes = Math.round(Number(hours) * 60);
  return minutes % 60 === 0 ? `PT${minutes / 60}H` : `PT${minutes}M`;
}

function expirationRule(rule: ExpirationRule, expires: boolean, days: string): ExpirationRule {
  return {
    ...rule,
    isExpirationRequired: expires,
    maximumDuration: expires ? `P${Math.round(Number(days))}D` : rule.maximumDuration,
  };
}

/** Rules compare by content, so a form opened and saved untouched changes nothing. */
function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function PolicyEditor(props: {
  policy: PolicyAssignment;
  directory: Directory;
  accessId: AccessId;
  onSaved: () => void;
}) {
  const rules = props.policy.policy.rules;
  const [form, setForm] = useState<FormState>(() => fromRules(rules));
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const id = (name: string) => `policy-${props.accessId}-${name}`;
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setForm((current) => ({ ...current, [key]: value }));

  async function save(event: FormEvent) {
    event.preventDefault();
    setNotice(null);
    if (
      form.approval &&
      (form.stages.length === 0 || form.stages.some((s) => !s.approvers.length))
    ) {
      setNotice({ kind: 'error', text: 'Approval needs at least one approver in every stage.' });
      return;
    }

    const next = toRules(rules, form);
    const changed = next.filter((rule, index) => {
      const old = rules[index];
      return old !== undefined && !sameRule(rule, old);
    });
    if (changed.length === 0) {
      setNotice({ kind: 'success', text: 'Nothing to save: no setting changed.' });
      return;
    }

    setBusy(true);
    const saved: string[] = [];
    const policyId = encodeURIComponent(props.policy.policyId);
    const policyUrl = `/v1.0/policies/roleManagementPolicies/${policyId}`;
    try {
      for (const rule of changed) {
        await patch(`${policyUrl}/rules/${rule.id}`, rule);
        saved.push(rule.id);
      }
      setNotice({
        kind: 'success',
        text: `Saved ${saved.length} ${saved.length === 1 ? 'rule' : 'rules'}.`,
      });
      props.onSaved();
    } catch (error) {
      const failed = changed[saved.length]?.id ?? '';
      const text = errorNotice(error)?.text ?? '';
      const progress = saved.length ? `Saved ${saved.length} rules, then stopped. ` : '';
      setNotice({ kind: 'error', text: `${progress}${failed}: ${text}` });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="policy"
      onSubmit={(event) => void save(event)}
      aria-label={`${props.accessId} settings`}
    >
      <fieldset>
        <legend>Activation</legend>
        <div className="field">
          <label htmlFor={id('hours')}>Longest activation, in hours</label>
          <input
            id={id('hours')}
            type="number"
            min={0.5}
            max={24}
            step={0.5}
            required
            value={form.activationHours}
            onChange={(event) => set('activationHours', event.target.value)}
          />
        </div>
        <Check
          id={id('mfa')}
          label="Require multi-factor authentication"
          checked={form.activationMfa}
          onChange={(v) => set('activationMfa', v)}
        />
        <Check
          id={id('justification')}
          label="Require a justification"
          checked={form.activationJustification}
          onChange={(v) => set('activationJustification', v)}
        />
        <Check
          id={id('ticket')}
          label="Require a ticket number"
          checked={form.activationTicket}
          onChange={(v) => set('activationTicket', v)}
        />
        <Check
          id={id('approval')}
          label="Require approval to activate"
          checked={form.approval}
          onChange={(v) => {
            set('approval', v);
            if (v && form.stages.length === 0) {
              set('stages', [{ timeoutDays: 1, approverJustification: true, approvers: [] }]);
            }
          }}
        />
        {form.approval ? (
          <Stages
            idPrefix={id('stage')}
            stages={form.stages}
            directory={props.directory}
            onChange={(stages) => set('stages', stages)}
          />
        ) : null}
      </fieldset>

      <fieldset>
        <legend>Eligible assignments</legend>
        <Check
          id={id('e-expires')}
          label="Eligible assignments must end"
          checked={form.eligibleExpires}
          onChange={(v) => set('eligibleExpires', v)}
        />
        {form.eligibleExpires ? (
          <DaysField
            id={id('e-days')}
            label="Longest eligible assignment, in days"
            value={form.eligibleDays}
            onChange={(v) => set('eligibleDays', v)}
          />
        ) : null}
        <Check
          id={id('e-mfa')}
          label="Require multi-factor authentication to assign"
          checked={form.eligibleMfa}
          onChange={(v) => set('eligibleMfa', v)}
        />
        <Check
          id={id('e-why')}
          label="Require a justification to assign"
          checked={form.eligibleJustification}
          onChange={(v) => set('eligibleJustification', v)}
        />
        <Check
          id={id('e-ticket')}
          label="Require a ticket number to assign"
          checked={form.eligibleTicket}
          onChange={(v) => set('eligibleTicket', v)}
        />
      </fieldset>

      <fieldset>
        <legend>Active assignments</legend>
        <Check
          id={id('a-expires')}
          label="Active assignments must end"
          checked={form.activeExpires}
          onChange={(v) => set('activeExpires', v)}
        />
        {form.activeExpires ? (
          <DaysField
            id={id('a-days')}
            label="Longest active assignment, in days"
            value={form.activeDays}
            onChange={(v) => set('activeDays', v)}
          />
        ) : null}
        <Check
          id={id('a-mfa')}
          label="Require multi-factor authentication to assign"
          checked={form.activeMfa}
          onChange={(v) => set('activeMfa', v)}
        />
        <Check
          id={id('a-why')}
          label="Require a justification to assign"
          checked={form.activeJustification}
          onChange={(v) => set('activeJustification', v)}
        />
      </fieldset>

      <fieldset>
        <legend>Notifications</legend>
        <div className="table-wrap">
          <table className="list notifications">
            <caption className="sr-only">Emails sent for each event</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Level</th>
                <th scope="col">Default recipients</th>
                <th scope="col">Also send to</th>
              </tr>
            </thead>
            <tbody>
              {NOTIFICATIONS.map(({ id: ruleId, label }) => {
                const value = form.notifications[ruleId];
                if (!value) return null;
                const update = (change: Partial<NotificationState>) =>
                  set('notifications', {
                    ...form.notifications,
                    [ruleId]: { ...value, ...change },
                  });
                return (
                  <tr key={ruleId}>
                    <th scope="row">{label}</th>
                    <td data-label="Level">
                      <select
                        aria-label={`${label}: level`}
                        value={value.level}
                        onChange={(event) =>
                          update({ level: event.target.value as NotificationLevel })
                        }
                      >
                        <option value="All">All</option>
                        <option value="Critical">Critical only</option>
                        <option value="None">None</option>
                      </select>
                    </td>
                    <td data-label="Default recipients">
                      <input
                        type="checkbox"
                        aria-label={`${label}: default recipients`}
                        checked={value.defaults}
                        onChange={(event) => update({ defaults: event.target.checked })}
                      />
                    </td>
                    <td data-label="Also send to">
                      <input
                        aria-label={`${label}: also send to`}
                        placeholder="email addresses"
                        value={value.recipients}
                        onChange={(event) => update({ recipients: event.target.value })}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </fieldset>

      <NoticeLine notice={notice} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save settings'}
        </button>
        <button type="button" disabled={busy} onClick={() => setForm(fromRules(rules))}>
          Undo changes
        </button>
      </div>
    </form>
  );
}

function Check(props: {
  id: string;
  label: string;
  checked: boolean;
  onChange: (value: boolean) => void;
}) {
  return (
    <div className="field checkbox">
      <input
        id={props.id}
        type="checkbox"
        checked={props.checked}
        onChange={(event) => props.onChange(event.target.checked)}
      />
      <label htmlFor={props.id}>{props.label}</label>
    </div>
  );
}

function DaysField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="number"
        min={1}
        max={3650}
        step={1}
        required
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </div>
  );
}

const USER = '#microsoft.graph.singleUser';
const GROUP = '#microsoft.graph.groupMembers';

function Stages(props: {
  idPrefix: string;
  stages: StageState[];
  directory: Directory;
  onChange: (stages: StageState[]) => void;
}) {
  const { stages, directory } = props;
  const update = (index: number, change: Partial<StageState>) =>
    props.onChange(stages.map((s, i) => (i === index ? { ...s, ...change } : s)));
  const groupName = (id: string | undefined) =>
    directory.groups.find((g) => g.id === id)?.displayName ?? id;
  const nameOf = (subject: SubjectSet) =>
    subject['@odata.type'] === USER
      ? (directory.users.find((u) => u.id === subject.userId)?.displayName ?? subject.userId)
      : `${groupName(subject.groupId)} (group)`;

  return (
    <div className="stages">
      {stages.map((stage, index) => {
        const prefix = `${props.idPrefix}-${index}`;
        return (
          <fieldset key={index} className="stage">
            <legend>{stages.length > 1 ? `Stage ${index + 1} approvers` : 'Approvers'}</legend>
            {stage.approvers.length === 0 ? (
              <p className="muted">No approver yet.</p>
            ) : (
              <ul className="chips">
                {stage.approvers.map((subject) => (
                  <li key={subject.userId ?? subject.groupId}>
                    {nameOf(subject)}{' '}
                    <button
                      type="button"
                      aria-label={`Remove approver ${nameOf(subject)}`}
                      onClick={() =>
                        update(index, {
                          approvers: stage.approvers.filter((a) => a !== subject),
                        })
                      }
                    >
                      ×
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <div className="field">
              <label htmlFor={`${prefix}-add`}>Add an approver</label>
              <select
                id={`${prefix}-add`}
                value=""
                onChange={(event) => {
                  const [type, value] = event.target.value.split(':');
                  if (!value) return;
                  const subject: SubjectSet =
                    type === 'u'
                      ? { '@odata.type': USER, userId: value }
                      : { '@odata.type': GROUP, groupId: value };
                  const exists = stage.approvers.some(
                    (a) => a.userId === value || a.groupId === value,
                  );
                  if (!exists) update(index, { approvers: [...stage.approvers, subject] });
                }}
              >
                <option value="">Choose a user or group</option>
                <optgroup label="Users">
                  {directory.users.map((u) => (
                    <option key={u.id} value={`u:${u.id}`}>
                      {u.displayName} ({u.userPrincipalName})
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Groups (any member may approve)">
                  {directory.groups.map((g) => (
                    <option key={g.id} value={`g:${g.id}`}>
                      {g.displayName}
                    </option>
                  ))}
                </optgroup>
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${prefix}-days`}>Days to decide</label>
              <input
                id={`${prefix}-days`}
                type="number"
                min={1}
                max={7}
                required
                value={stage.timeoutDays}
                onChange={(event) => update(index, { timeoutDays: Number(event.target.value) })}
              />
            </div>
            <div className="field checkbox">
              <input
                id={`${prefix}-why`}
                type="checkbox"
                checked={stage.approverJustification}
                onChange={(event) => update(index, { approverJustification: event.target.checked })}
              />
              <label htmlFor={`${prefix}-why`}>Approver must give a justification</label>
            </div>
          </fieldset>
        );
      })}
      <div className="actions">
        {stages.length < 2 ? (
          <button
            type="button"
            onClick={() =>
              props.onChange([
                ...stages,
                { timeoutDays: 1, approverJustification: true, approvers: [] },
              ])
            }
          >
            Add a second stage
          </button>
        ) : (
          <button type="button" onClick={() => props.onChange(stages.slice(0, 1))}>
            Remove the second stage
          </button>
        )}
      </div>
    </div>
  );
}
