import { useEffect, useMemo, useState, type FormEvent } from 'react';
import {
  TextField,
  LoadState,
  NoticeLine,
  Page,
  errorNotice,
  useLoad,
  type Notice,
} from '../components/ui';
import { describeError, failedRules } from '../errors';
import { endOf, type Schedule } from '../graph';
import {
  EXTENSION_WINDOW_MS,
  UNKNOWN_NEEDS,
  activate,
  activationNeeds,
  askForMore,
  cancelRequest,
  deactivate,
  loadMyAccess,
  loadPolicy,
  rolesOfGroup,
  rolesThroughMyGroups,
  type ActivationNeeds,
  type Kind,
  type MyAccess,
} from '../pim';
import { useSession } from '../session';
import {
  DAY_MS,
  HOUR_MS,
  describeDuration,
  formatDateTime,
  fromLocalInput,
  serverNow,
  toLocalInput,
} from '../time';

interface GroupFacts {
  needs: ActivationNeeds;
  roles: string[] | null;
}

const keyOf = (s: { groupId: string; accessId: string }) => `${s.groupId}/${s.accessId}`;

/**
 * The server's time now: again whenever `data` is reloaded (which reads the server's clock
 * anew), and every 30 seconds, so that time left counts down while the page is open.
 */
function useServerNow(data: unknown): number {
  const [now, setNow] = useState(() => serverNow().getTime());
  useEffect(() => {
    setNow(serverNow().getTime());
    const timer = window.setInterval(() => setNow(serverNow().getTime()), 30_000);
    return () => window.clearInterval(timer);
  }, [data]);
  return now;
}

export function MyRolesPage() {
  const [notice, setNotice] = useState<Notice>(null);
  const access = useLoad(loadMyAccess, []);
  const { session } = useSession();
  const facts = useLoad(async () => {
    const eligible = access.data?.eligible ?? [];
    const throughGroups = await rolesThroughMyGroups(session.me.id);
    const entries = await Promise.all(
      eligible.map(async (s): Promise<[string, GroupFacts]> => {
        const [policy, roles] = await Promise.all([
          loadPolicy(s.groupId, s.accessId),
          rolesOfGroup(s.groupId),
        ]);
        return [
          keyOf(s),
          {
            needs: policy ? activationNeeds(policy.policy.rules) : UNKNOWN_NEEDS,
            roles: roles ?? throughGroups.get(s.groupId) ?? null,
          },
        ];
      }),
    );
    return new Map(entries);
  }, [access.data, session.me.id]);

  return (
    <Page
      title="My roles"
      intro="Activate the groups you are eligible for when you need them; their roles are yours until the activation ends."
    >
      <NoticeLine notice={notice} />
      <LoadState loaded={access}>
        {(data) => (
          <MyRolesContent
            data={data}
            facts={facts.data ?? new Map()}
            onChange={(next) => {
              setNotice(next);
              access.reload();
            }}
          />
        )}
      </LoadState>
    </Page>
  );
}

function MyRolesContent(props: {
  data: MyAccess;
  facts: Map<string, GroupFacts>;
  onChange: (notice: Notice) => void;
}) {
  const { data, facts, onChange } = props;
  const now = useServerNow(data);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const activeKeys = new Set(data.active.map(keyOf));
  const pendingKeys = new Set(data.pending.filter((r) => r.action === 'selfActivate').map(keyOf));
  const chosen = data.eligible.filter((s) => selected.has(s.id));

  function toggle(id: string, on: boolean) {
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  return (
    <>
      <section aria-labelledby="eligible-title" className="card">
        <h2 id="eligible-title">Eligible</h2>
        {data.eligible.length === 0 ? (
          <p className="muted">You are not eligible for any group.</p>
        ) : (
          <table className="list">
            <caption className="sr-only">
              Groups you may activate. Select several to activate them together.
            </caption>
            <thead>
              <tr>
                <th scope="col">
                  <span className="sr-only">Select</span>
                </th>
                <th scope="col">Group</th>
                <th scope="col">Roles</th>
                <th scope="col">As</th>
                <th scope="col">Eligible until</th>
                <th scope="col">Activation</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.eligible.map((s) => {
                const name = s.group?.displayName ?? s.groupId;
                const busy = activeKeys.has(keyOf(s)) || pendingKeys.has(keyOf(s));
                const fact = facts.get(keyOf(s));
                return (
                  <tr key={s.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${name}`}
                        disabled={busy}
                        checked={selected.has(s.id)}
                        onChange={(event) => toggle(s.id, event.target.checked)}
                      />
                    </td>
                    <td data-label="Group">{name}</td>
                    <td data-label="Roles">{describeRoles(fact)}</td>
                    <td data-label="As">{s.accessId === 'owner' ? 'Owner' : 'Member'}</td>
                    <td data-label="Eligible until">{formatDateTime(endOf(s.scheduleInfo))}</td>
                    <td data-label="Activation">{describeNeeds(fact?.needs)}</td>
                    <td className="row-actions">
                      {busy ? (
                        <span className="badge">
                          {activeKeys.has(keyOf(s)) ? 'Active' : 'Requested'}
                        </span>
                      ) : (
                        <button type="button" onClick={() => setSelected(new Set([s.id]))}>
                          Activate
                        </button>
                      )}
                      <ExtendButton kind="eligibility" schedule={s} now={now} onChange={onChange} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {chosen.length > 0 ? (
          <ActivationForm
            key={[...selected].join(',')}
            chosen={chosen}
            facts={facts}
            onCancel={() => setSelected(new Set())}
            onDone={(notice) => {
              setSelected(new Set());
              onChange(notice);
            }}
          />
        ) : null}
      </section>

      <section aria-labelledby="active-title" className="card">
        <h2 id="active-title">Active</h2>
        {data.active.length === 0 ? (
          <p className="muted">Nothing is active now.</p>
        ) : (
          <ul className="rows">
            {data.active.map((s) => (
              <ActiveRow key={s.id} schedule={s} now={now} onChange={onChange} />
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="pending-title" className="card">
        <h2 id="pending-title">Waiting for a decision</h2>
        {data.pending.length === 0 ? (
          <p className="muted">No request is waiting.</p>
        ) : (
          <ul className="rows">
            {data.pending.map((r) => (
              <li key={r.id} className="row">
                <div>
                  <strong>{r.group?.displayName ?? r.groupId}</strong> ({r.accessId}){' '}
                  <span className="badge">{describeAction(r.action)}</span>
                  <div className="muted">
                    Asked {formatDateTime(r.createdDateTime)}
                    {r.justification ? ` · “${r.justification}”` : ''}
                  </div>
                </div>
                <CancelButton
                  kind={r.kind}
                  id={r.id}
                  label={`Cancel request for ${r.group?.displayName ?? r.groupId}`}
                  onChange={onChange}
                />
              </li>
            ))}
          </ul>
        )}
      </section>

      {data.ended.length > 0 ? (
        <section aria-labelledby="ended-title" className="card">
          <h2 id="ended-title">Recently ended</h2>
          <ul className="rows">
            {data.ended.map((s) => (
              <li key={s.id} className="row">
                <div>
                  <strong>{s.group?.displayName ?? s.groupId}</strong> ({s.accessId},{' '}
                  {s.kind === 'eligibility' ? 'eligible' : 'active'})
                  <div className="muted">Ended {formatDateTime(endOf(s.scheduleInfo))}</div>
                </div>
                <MoreTimeForm
                  kind={s.kind}
                  action="selfRenew"
                  schedule={s}
                  now={now}
                  onChange={onChange}
                />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}

function describeRoles(fact: GroupFacts | undefined): string {
  if (!fact) return '…';
  // Only readers see a group's roles before it is active; then they reach the user too.
  if (fact.roles === null) return 'Shown when active';
  return fact.roles.length ? fact.roles.join(', ') : 'No roles';
}

function describeNeeds(needs: ActivationNeeds | undefined): string {
  if (!needs) return '…';
  if (!needs.known) return 'As the group requires';
  const parts = [
    needs.maxMs ? `up to ${describeDuration(needs.maxMs)}` : null,
    needs.justification ? 'justification' : null,
    needs.ticket ? 'ticket' : null,
    needs.mfa ? 'MFA' : null,
    needs.approval ? 'approval' : null,
  ].filter(Boolean);
  return parts.join(', ');
}

function describeAction(action: string): string {
  switch (action) {
    case 'selfActivate':
      return 'Activation';
    case 'selfExtend':
      return 'Extension';
    case 'selfRenew':
      return 'Renewal';
    default:
      return action;
  }
}

/** What the chosen groups together need: the strictest of each rule, the shortest maximum. */
function combine(needs: ActivationNeeds[]): ActivationNeeds {
  const maxima = needs.map((n) => n.maxMs).filter((ms): ms is number => ms !== null);
  return {
    maxMs: maxima.length ? Math.min(...maxima) : null,
    mfa: needs.some((n) => n.mfa),
    justification: needs.some((n) => n.justification || !n.known),
    ticket: needs.some((n) => n.ticket),
    approval: needs.some((n) => n.approval),
    known: needs.every((n) => n.known),
  };
}

function ActivationForm(props: {
  chosen: Schedule[];
  facts: Map<string, GroupFacts>;
  onCancel: () => void;
  onDone: (notice: Notice) => void;
}) {
  const { session, stepUp } = useSession();
  const needs = combine(props.chosen.map((s) => props.facts.get(keyOf(s))?.needs ?? UNKNOWN_NEEDS));
  const maxHours = needs.maxMs ? needs.maxMs / HOUR_MS : 24;
  const [hours, setHours] = useState(() => String(Math.min(1, maxHours)));
  const [justification, setJustification] = useState('');
  const [ticketNumber, setTicketNumber] = useState('');
  const [ticketSystem, setTicketSystem] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const names = props.chosen.map((s) => s.group?.displayName ?? s.groupId);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setNotice(null);
    const minutes = Math.round(Number(hours) * 60);
    if (!(minutes > 0) || minutes > maxHours * 60) {
      setNotice({
        kind: 'error',
        text: `Choose a duration up to ${describeDuration(maxHours * HOUR_MS)}.`,
      });
      return;
    }

    setBusy(true);
    if (needs.mfa && !session.mfa) {
      const confirmed = await stepUp('This group needs multi-factor authentication to activate.');
      if (!confirmed) {
        setBusy(false);
        setNotice({ kind: 'error', text: 'Activation needs your authenticator code.' });
        return;
      }
    }

    const inputs = props.chosen.map((s) => ({
      groupId: s.groupId,
      accessId: s.accessId,
      principalId: session.me.id,
      minutes,
      justification,
      ticketNumber,
      ticketSystem,
    }));
    try {
      let results = await activate(inputs);
      const needMfa = results.some((r) => failedRules(r.error).includes('MfaRule'));
      if (needMfa && (await stepUp('This group needs multi-factor authentication to activate.'))) {
        const retry = inputs.filter((i) => results.find((r) => r.id === i.groupId && !r.ok));
        const again = await activate(retry);
        results = results.map((r) => again.find((a) => a.id === r.id) ?? r);
      }

      const nameOf = (groupId: string) =>
        props.chosen.find((s) => s.groupId === groupId)?.group?.displayName ?? groupId;
      const failed = results.filter((r) => !r.ok);
      const done = results.filter((r) => r.ok);
      const waiting = done
        .filter((r) => r.body?.status === 'PendingApproval')
        .map((r) => nameOf(r.id));
      const granted = done
        .filter((r) => r.body?.status !== 'PendingApproval')
        .map((r) => nameOf(r.id));
      const summary = [
        granted.length ? `Activated: ${granted.join(', ')}.` : '',
        waiting.length ? `Sent for approval: ${waiting.join(', ')}.` : '',
        ...failed.map((r) => `${nameOf(r.id)}: ${describeError(r.error)}`),
      ].filter(Boolean);

      if (failed.length === results.length) {
        setNotice({ kind: 'error', text: summary.join(' ') });
        setBusy(false);
        return;
      }
      props.onDone({ kind: failed.length ? 'error' : 'success', text: summary.join(' ') });
    } catch (error) {
      setNotice(errorNotice(error));
      setBusy(false);
    }
  }

  return (
    <form
      className="subform"
      aria-labelledby="activate-title"
      onSubmit={(event) => void submit(event)}
    >
      <h3 id="activate-title">Activate {names.join(', ')}</h3>
      {needs.approval ? (
        <p className="help">
          {props.chosen.length > 1 ? 'Some of these groups need' : 'This group needs'} an approver's
          consent; you'll be told when it's decided.
        </p>
      ) : null}
      <div className="field">
        <label htmlFor="activate-hours">Duration in hours</label>
        <input
          id="activate-hours"
          type="number"
          min={0.25}
          step={0.25}
          max={maxHours}
          required
          aria-describedby="activate-hours-help"
          value={hours}
          onChange={(event) => setHours(event.target.value)}
        />
        <p id="activate-hours-help" className="help">
          At most {describeDuration(maxHours * HOUR_MS)}.
        </p>
      </div>
      {needs.justification ? (
        <div className="field">
          <label htmlFor="activate-justification">Justification</label>
          <textarea
            id="activate-justification"
            required
            maxLength={500}
            rows={2}
            value={justification}
            onChange={(event) => setJustification(event.target.value)}
          />
        </div>
      ) : null}
      {needs.ticket || !needs.known ? (
        <div className="field-row">
          <TextField
            id="activate-ticket"
            label="Ticket number"
            required={needs.ticket}
            maxLength={100}
            value={ticketNumber}
            onChange={setTicketNumber}
          />
          <TextField
            id="activate-ticket-system"
            label="Ticket system"
            maxLength={100}
            placeholder="e.g. Jira"
            value={ticketSystem}
            onChange={setTicketSystem}
          />
        </div>
      ) : null}
      {needs.mfa ? (
        <p className="help">
          {session.mfa
            ? 'Your sign-in already includes multi-factor authentication.'
            : "You'll be asked for your authenticator code."}
        </p>
      ) : null}
      <NoticeLine notice={notice} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy
            ? 'Activating…'
            : props.chosen.length > 1
              ? `Activate ${props.chosen.length} groups`
              : 'Activate'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ActiveRow(props: { schedule: Schedule; now: number; onChange: (notice: Notice) => void }) {
  const { schedule, now, onChange } = props;
  const [busy, setBusy] = useState(false);
  const end = endOf(schedule.scheduleInfo);
  const start = Date.parse(schedule.scheduleInfo.startDateTime ?? '');
  const left = end ? Date.parse(end) - now : null;
  const name = schedule.group?.displayName ?? schedule.groupId;

  async function end_() {
    setBusy(true);
    try {
      await deactivate(schedule);
      onChange({ kind: 'success', text: `Deactivated ${name}.` });
    } catch (error) {
      onChange(errorNotice(error));
      setBusy(false);
    }
  }

  return (
    <li className="row">
      <div>
        <strong>{name}</strong> ({schedule.accessId},{' '}
        {schedule.assignmentType === 'activated' ? 'activated' : 'assigned'})
        <div className="muted">
          {start > now
            ? `Starts ${formatDateTime(schedule.scheduleInfo.startDateTime)}`
            : left === null
              ? 'Permanent'
              : `${describeDuration(left)} left · ends ${formatDateTime(end)}`}
        </div>
      </div>
      <div className="row-actions">
        {schedule.assignmentType === 'activated' ? (
          <button
            type="button"
            disabled={busy}
            aria-label={`Deactivate ${name}`}
            onClick={() => void end_()}
          >
            Deactivate
          </button>
        ) : (
          <ExtendButton kind="assignment" schedule={schedule} now={now} onChange={onChange} />
        )}
      </div>
    </li>
  );
}

/** Extend appears in the last 14 days of a time-bound eligibility or assignment. */
function ExtendButton(props: {
  kind: Kind;
  schedule: Schedule;
  now: number;
  onChange: (notice: Notice) => void;
}) {
  const end = endOf(props.schedule.scheduleInfo);
  if (!end) return null;
  const left = Date.parse(end) - props.now;
  if (left <= 0 || left > EXTENSION_WINDOW_MS) return null;
  return <MoreTimeForm {...props} action="selfExtend" />;
}

/** Asks an administrator for a later end (extend) or for the access back (renew). */
function MoreTimeForm(props: {
  kind: Kind;
  action: 'selfExtend' | 'selfRenew';
  schedule: Schedule;
  now: number;
  onChange: (notice: Notice) => void;
}) {
  const { kind, action, schedule, now, onChange } = props;
  const [open, setOpen] = useState(false);
  const base = useMemo(() => {
    const end = Date.parse(endOf(schedule.scheduleInfo) ?? '');
    return Math.max(Number.isNaN(end) ? now : end, now);
  }, [schedule, now]);
  const [endValue, setEndValue] = useState(() => toLocalInput(new Date(base + 90 * DAY_MS)));
  const [justification, setJustification] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const verb = action === 'selfExtend' ? 'Extend' : 'Renew';
  const name = schedule.group?.displayName ?? schedule.groupId;
  const id = `${action}-${schedule.id}`;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const end = fromLocalInput(endValue);
    if (!end) {
      setNotice({ kind: 'error', text: 'Choose the new end date.' });
      return;
    }
    setBusy(true);
    try {
      await askForMore(kind, action, schedule, end, justification);
      onChange({
        kind: 'success',
        text: `Asked an administrator to ${verb.toLowerCase()} ${name}.`,
      });
    } catch (error) {
      setNotice(errorNotice(error));
      setBusy(false);
    }
  }

  if (!open) {
    return (
      <button type="button" aria-label={`${verb} ${name}`} onClick={() => setOpen(true)}>
        {verb}
      </button>
    );
  }
  return (
    <form
      className="subform"
      onSubmit={(event) => void submit(event)}
      aria-label={`${verb} ${name}`}
    >
      <TextField
        id={`${id}-end`}
        label="New end"
        type="datetime-local"
        required
        value={endValue}
        onChange={setEndValue}
      />
      <TextField
        id={`${id}-why`}
        label="Justification"
        required
        maxLength={500}
        value={justification}
        onChange={setJustification}
      />
      <NoticeLine notice={notice} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Ask to {verb.toLowerCase()}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function CancelButton(props: {
  kind: Kind;
  id: string;
  label: string;
  onChange: (notice: Notice) => void;
}) {
  const [busy, setBusy] = useState(false);
  async function cancel() {
    setBusy(true);
    try {
      await cancelRequest(props.kind, props.id);
      props.onChange({ kind: 'success', text: 'The request was canceled.' });
    } catch (error) {
      props.onChange(errorNotice(error));
      setBusy(false);
    }
  }
  return (
    <button type="button" aria-label={props.label} disabled={busy} onClick={() => void cancel()}>
      Cancel request
    </button>
  );
}
