import { useState, type FormEvent } from 'react';
import { get, getAll, odataString, PIM, post, query } from '../api';
import { PolicyForm } from '../components/PolicyForm';
import {
  TextField,
  SelectField,
  LoadState,
  NoticeLine,
  Page,
  errorNotice,
  useLoad,
  type Notice,
} from '../components/ui';
import { RoleIds, endOf, type AccessId, type Group, type Schedule, type User } from '../graph';
import { requestsUrl, rolesOfGroup, type Kind } from '../pim';
import { useSession } from '../session';
import { DAY_MS, formatDateTime, fromLocalInput, serverNow, toLocalInput } from '../time';

/** The groups the signed-in user may manage: every group for admins, owned groups for owners. */
export function GroupsPage() {
  const { session } = useSession();
  const groups = useLoad(async () => {
    const listsAll = session.isAdmin || session.roles.has(RoleIds.groupsAdministrator);
    const visible = listsAll
      ? await getAll<Group>(`/v1.0/groups${query({ $top: '999' })}`)
      : await Promise.all(session.ownedGroupIds.map((id) => get<Group>(`/v1.0/groups/${id}`)));
    const roles = await Promise.all(visible.map((g) => rolesOfGroup(g.id)));
    return visible
      .map((group, index) => ({ group, roles: roles[index] ?? null }))
      .sort((a, b) => a.group.displayName.localeCompare(b.group.displayName));
  }, [session]);

  return (
    <Page
      title="Privileged access groups"
      intro="Who may activate each group, who holds it now, and the rules for both."
    >
      <LoadState loaded={groups}>
        {(items) => (
          <div className="table-wrap card">
            <table className="list">
              <caption className="sr-only">Groups</caption>
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Roles it holds</th>
                  <th scope="col">Role-assignable</th>
                </tr>
              </thead>
              <tbody>
                {items.map(({ group, roles }) => (
                  <tr key={group.id}>
                    <td data-label="Group">
                      <a href={`#/groups/${group.id}`}>{group.displayName}</a>
                      {group.description ? <div className="muted">{group.description}</div> : null}
                    </td>
                    <td data-label="Roles">
                      {roles === null ? 'Not shown to you' : roles.join(', ') || 'None'}
                    </td>
                    <td data-label="Role-assignable">{group.isAssignableToRole ? 'Yes' : 'No'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </LoadState>
    </Page>
  );
}

interface GroupData {
  group: Group;
  roles: string[] | null;
  eligible: Schedule[];
  active: Schedule[];
}

async function loadGroup(groupId: string): Promise<GroupData> {
  const filter = query({ $filter: `groupId eq ${odataString(groupId)}`, $expand: 'principal' });
  const [group, roles, eligible, active] = await Promise.all([
    get<Group>(`/v1.0/groups/${encodeURIComponent(groupId)}`),
    rolesOfGroup(groupId),
    getAll<Schedule>(`${PIM}/eligibilitySchedules${filter}`),
    getAll<Schedule>(`${PIM}/assignmentSchedules${filter}`),
  ]);
  return { group, roles, eligible, active };
}

/** One group: its assignments, to add, change and remove, and its member and owner settings. */
export function GroupPage(props: { groupId: string }) {
  const data = useLoad(() => loadGroup(props.groupId), [props.groupId]);
  const [notice, setNotice] = useState<Notice>(null);
  const [settingsFor, setSettingsFor] = useState<AccessId>('member');
  const changed = (next: Notice) => {
    setNotice(next);
    data.reload();
  };

  return (
    <Page title={data.data?.group.displayName ?? 'Group'}>
      <p>
        <a href="#/groups">← All groups</a>
      </p>
      <NoticeLine notice={notice} />
      <LoadState loaded={data}>
        {({ group, roles, eligible, active }) => (
          <>
            <section className="card" aria-labelledby="roles-title">
              <h2 id="roles-title">Roles this group holds</h2>
              <p>{roles === null ? 'Not shown to you.' : roles.join(', ') || 'None.'}</p>
            </section>
            <AssignmentList
              title="Eligible assignments"
              kind="eligibility"
              schedules={eligible}
              onChange={changed}
            />
            <AssignmentList
              title="Active assignments"
              kind="assignment"
              schedules={active}
              onChange={changed}
            />
            <AddAssignment group={group} onChange={changed} />
            <section className="card" aria-labelledby="settings-title">
              <h2 id="settings-title">Settings</h2>
              <SelectField
                id="settings-for"
                label="Settings for"
                value={settingsFor}
                onChange={setSettingsFor}
              >
                <option value="member">Members</option>
                <option value="owner">Owners</option>
              </SelectField>
              <PolicyForm key={settingsFor} groupId={group.id} accessId={settingsFor} />
            </section>
          </>
        )}
      </LoadState>
    </Page>
  );
}

function AssignmentList(props: {
  title: string;
  kind: Kind;
  schedules: Schedule[];
  onChange: (notice: Notice) => void;
}) {
  const id = `${props.kind}-list`;
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{props.title}</h2>
      {props.schedules.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="rows">
          {props.schedules.map((s) => (
            <AssignmentRow key={s.id} kind={props.kind} schedule={s} onChange={props.onChange} />
          ))}
        </ul>
      )}
    </section>
  );
}

function AssignmentRow(props: {
  kind: Kind;
  schedule: Schedule;
  onChange: (notice: Notice) => void;
}) {
  const { kind, schedule, onChange } = props;
  const [mode, setMode] = useState<'view' | 'change' | 'remove'>('view');
  const [endValue, setEndValue] = useState(() => {
    const end = endOf(schedule.scheduleInfo);
    return end ? toLocalInput(new Date(end)) : '';
  });
  const [justification, setJustification] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const name = schedule.principal?.displayName ?? schedule.principalId;
  const end = endOf(schedule.scheduleInfo);
  const activated = schedule.assignmentType === 'activated';
  const formId = `row-${schedule.id}`;

  async function send(event: FormEvent, action: string) {
    event.preventDefault();
    const newEnd = fromLocalInput(endValue);
    setBusy(true);
    setNotice(null);
    try {
      await post(requestsUrl(kind), {
        action,
        principalId: schedule.principalId,
        groupId: schedule.groupId,
        accessId: schedule.accessId,
        targetScheduleId: schedule.id,
        justification: justification.trim() || null,
        ...(action === 'adminRemove'
          ? {}
          : {
              scheduleInfo: {
                startDateTime:
                  action === 'adminUpdate' ? schedule.scheduleInfo.startDateTime : null,
                expiration: newEnd
                  ? { type: 'afterDateTime', endDateTime: newEnd.toISOString() }
                  : { type: 'noExpiration' },
              },
            }),
      });
      const verb = { adminRemove: 'Removed', adminExtend: 'Extended', adminUpdate: 'Changed' };
      setMode('view');
      setBusy(false);
      setJustification('');
      onChange({
        kind: 'success',
        text: `${verb[action as keyof typeof verb]} the ${schedule.accessId} assignment of ${name}.`,
      });
    } catch (error) {
      setNotice(errorNotice(error));
      setBusy(false);
    }
  }

  // A later end on a time-bound assignment is an extension; anything else is a change.
  const newEnd = fromLocalInput(endValue);
  const extending = end !== null && newEnd !== null && newEnd.getTime() > Date.parse(end);
  return (
    <li className="row">
      <div>
        <strong>{name}</strong> ({schedule.accessId}
        {activated ? ', activated' : ''})
        <div className="muted">
          {schedule.principal?.userPrincipalName} · from{' '}
          {formatDateTime(schedule.scheduleInfo.startDateTime)} until {formatDateTime(end)}
        </div>
        {mode !== 'view' ? (
          <form
            className="subform"
            aria-label={`${mode === 'remove' ? 'Remove' : 'Change'} ${name}`}
            onSubmit={(event) =>
              void send(
                event,
                mode === 'remove' ? 'adminRemove' : extending ? 'adminExtend' : 'adminUpdate',
              )
            }
          >
            {mode === 'change' ? (
              <TextField
                id={`${formId}-end`}
                label="Ends (empty: never)"
                type="datetime-local"
                value={endValue}
                onChange={setEndValue}
              />
            ) : null}
            <TextField
              id={`${formId}-why`}
              label="Justification"
              maxLength={500}
              value={justification}
              onChange={setJustification}
            />
            <NoticeLine notice={notice} />
            <div className="actions">
              <button
                type="submit"
                className={mode === 'remove' ? 'danger' : 'primary'}
                disabled={busy}
              >
                {mode === 'remove' ? 'Remove' : 'Save'}
              </button>
              <button type="button" onClick={() => setMode('view')}>
                Cancel
              </button>
            </div>
          </form>
        ) : null}
      </div>
      {mode === 'view' ? (
        <div className="row-actions">
          {activated ? null : (
            <button type="button" aria-label={`Change ${name}`} onClick={() => setMode('change')}>
              Change
            </button>
          )}
          <button
            type="button"
            className="danger"
            aria-label={`Remove ${name}`}
            onClick={() => setMode('remove')}
          >
            Remove
          </button>
        </div>
      ) : null}
    </li>
  );
}

function AddAssignment(props: { group: Group; onChange: (notice: Notice) => void }) {
  const users = useLoad(
    () => getAll<User>(`/v1.0/users${query({ $top: '999', $orderby: 'displayName' })}`),
    [],
  );
  const [principalId, setPrincipalId] = useState('');
  const [accessId, setAccessId] = useState<AccessId>('member');
  const [kind, setKind] = useState<Kind>('eligibility');
  const [endValue, setEndValue] = useState(() =>
    toLocalInput(new Date(serverNow().getTime() + 90 * DAY_MS)),
  );
  const [justification, setJustification] = useState('');
  const [ticket, setTicket] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const end = fromLocalInput(endValue);
    setBusy(true);
    setNotice(null);
    try {
      await post(requestsUrl(kind), {
        action: 'adminAssign',
        principalId,
        groupId: props.group.id,
        accessId,
        justification: justification.trim() || null,
        scheduleInfo: {
          startDateTime: null,
          expiration: end
            ? { type: 'afterDateTime', endDateTime: end.toISOString() }
            : { type: 'noExpiration' },
        },
        ...(ticket.trim()
          ? { ticketInfo: { ticketNumber: ticket.trim(), ticketSystem: null } }
          : {}),
      });
      const who = users.data?.find((u) => u.id === principalId)?.displayName ?? 'The user';
      setBusy(false);
      setJustification('');
      setTicket('');
      props.onChange({
        kind: 'success',
        text: `${who} is now ${kind === 'eligibility' ? 'eligible' : 'active'} as ${accessId}.`,
      });
    } catch (error) {
      setNotice(errorNotice(error));
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="add-title">
      <h2 id="add-title">Add an assignment</h2>
      <form onSubmit={(event) => void submit(event)}>
        <div className="field-row">
          <SelectField
            id="add-user"
            label="User"
            required
            value={principalId}
            onChange={setPrincipalId}
          >
            <option value="">Choose a user</option>
            {(users.data ?? []).map((u) => (
              <option key={u.id} value={u.id}>
                {u.displayName} ({u.userPrincipalName})
              </option>
            ))}
          </SelectField>
          <SelectField id="add-access" label="As" value={accessId} onChange={setAccessId}>
            <option value="member">Member</option>
            <option value="owner">Owner</option>
          </SelectField>
          <SelectField id="add-kind" label="Assignment" value={kind} onChange={setKind}>
            <option value="eligibility">Eligible (activates when needed)</option>
            <option value="assignment">Active (holds it now)</option>
          </SelectField>
        </div>
        <div className="field-row">
          <TextField
            id="add-end"
            label="Ends (empty: never)"
            type="datetime-local"
            value={endValue}
            onChange={setEndValue}
          />
          <TextField
            id="add-why"
            label="Justification"
            maxLength={500}
            value={justification}
            onChange={setJustification}
          />
          <TextField
            id="add-ticket"
            label="Ticket number"
            maxLength={100}
            value={ticket}
            onChange={setTicket}
          />
        </div>
        <NoticeLine notice={notice} />
        <button type="submit" className="primary" disabled={busy}>
          Add
        </button>
      </form>
    </section>
  );
}
