import { useEffect, useRef, useState, type FormEvent } from 'react';
import { getAll, patch, PIM } from '../api';
import {
  TextField,
  LoadState,
  NoticeLine,
  Page,
  errorNotice,
  useLoad,
  type Notice,
} from '../components/ui';
import { endOf, type Approval, type ScheduleRequest } from '../graph';
import { rolesOfGroup, requestsUrl } from '../pim';
import { describeDuration, formatDateTime, isoDurationMs } from '../time';

interface Waiting {
  request: ScheduleRequest;
  approval: Approval;
  roles: string[] | null;
}

const MINE = "filterByCurrentUser(on='approver')";

async function loadQueue(): Promise<Waiting[]> {
  const [approvals, assignments, eligibilities] = await Promise.all([
    getAll<Approval>(`${PIM}/assignmentApprovals/${MINE}`),
    getAll<ScheduleRequest>(`${requestsUrl('assignment')}/${MINE}?$expand=principal,group`),
    getAll<ScheduleRequest>(`${requestsUrl('eligibility')}/${MINE}?$expand=principal,group`),
  ]);
  const requests = [...assignments, ...eligibilities];

  const waiting = approvals.flatMap((approval) => {
    const request = requests.find((r) => r.approvalId === approval.id);
    return request ? [{ request, approval }] : [];
  });
  const roles = await Promise.all(waiting.map((w) => rolesOfGroup(w.request.groupId)));
  return waiting.map((w, index) => ({ ...w, roles: roles[index] ?? null }));
}

/** Requests waiting for the signed-in user's decision. */
export function ApprovalsPage(props: { highlight: string | null }) {
  const queue = useLoad(loadQueue, []);
  const [notice, setNotice] = useState<Notice>(null);

  return (
    <Page title="Approvals" intro="Requests that wait for your decision.">
      <NoticeLine notice={notice} />
      <LoadState loaded={queue}>
        {(items) =>
          items.length === 0 ? (
            <p className="card muted">Nothing is waiting for you.</p>
          ) : (
            <ul className="cards">
              {items.map((item) => (
                <ApprovalCard
                  key={item.approval.id}
                  item={item}
                  highlighted={props.highlight === item.approval.id}
                  onDecided={(next) => {
                    setNotice(next);
                    queue.reload();
                  }}
                />
              ))}
            </ul>
          )
        }
      </LoadState>
    </Page>
  );
}

function describeWindow(request: ScheduleRequest): string {
  const info = request.scheduleInfo;
  const start = info.startDateTime ? formatDateTime(info.startDateTime) : 'when approved';
  const duration = isoDurationMs(info.expiration.duration);
  if (duration) return `${describeDuration(duration)}, from ${start}`;
  const end = endOf(info);
  return end ? `From ${start} until ${formatDateTime(end)}` : `From ${start}, permanently`;
}

const ACTIONS: Record<string, string> = {
  selfActivate: 'Activation',
  selfExtend: 'Extension',
  selfRenew: 'Renewal',
};

function ApprovalCard(props: {
  item: Waiting;
  highlighted: boolean;
  onDecided: (notice: Notice) => void;
}) {
  const { request, approval, roles } = props.item;
  const stage = approval.stages.find((s) => s.assignedToMe && s.status === 'InProgress');
  const [justification, setJustification] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const who = request.principal?.displayName ?? request.principalId;
  const group = request.group?.displayName ?? request.groupId;
  const id = `approval-${approval.id}`;
  const card = useRef<HTMLLIElement>(null);

  // A link from an email names one approval: bring it into view.
  useEffect(() => {
    if (props.highlighted) card.current?.scrollIntoView({ block: 'start' });
  }, [props.highlighted]);

  async function decide(event: FormEvent, result: 'Approve' | 'Deny') {
    event.preventDefault();
    if (!stage) return;
    setBusy(true);
    setNotice(null);
    try {
      const step = `${encodeURIComponent(approval.id)}/steps/${encodeURIComponent(stage.id)}`;
      await patch(`${PIM}/assignmentApprovals/${step}`, {
        reviewResult: result,
        justification: justification.trim() || null,
      });
      props.onDecided({
        kind: 'success',
        text: `${result === 'Approve' ? 'Approved' : 'Denied'} the request of ${who} for ${group}.`,
      });
    } catch (error) {
      setNotice(errorNotice(error));
      setBusy(false);
    }
  }

  return (
    <li
      ref={card}
      className={props.highlighted ? 'card highlighted' : 'card'}
      aria-labelledby={`${id}-title`}
    >
      <h2 id={`${id}-title`}>
        {who} asks for {group}
      </h2>
      <dl className="facts">
        <dt>Request</dt>
        <dd>
          {ACTIONS[request.action] ?? request.action} of {request.accessId}
          {stage?.displayName ? ` · ${stage.displayName} of ${approval.stages.length}` : ''}
        </dd>
        <dt>Requester</dt>
        <dd>
          {who}
          {request.principal?.userPrincipalName ? ` (${request.principal.userPrincipalName})` : ''}
        </dd>
        <dt>Roles</dt>
        <dd>{roles === null ? 'Not shown to you' : roles.join(', ') || 'No roles'}</dd>
        <dt>Justification</dt>
        <dd>{request.justification ?? '—'}</dd>
        <dt>Ticket</dt>
        <dd>
          {request.ticketInfo.ticketNumber
            ? request.ticketInfo.ticketNumber +
              (request.ticketInfo.ticketSystem ? ` (${request.ticketInfo.ticketSystem})` : '')
            : '—'}
        </dd>
        <dt>Window</dt>
        <dd>{describeWindow(request)}</dd>
        <dt>Asked</dt>
        <dd>{formatDateTime(request.createdDateTime)}</dd>
      </dl>
      <form onSubmit={(event) => void decide(event, 'Approve')}>
        <TextField
          id={`${id}-why`}
          label="Your justification"
          maxLength={500}
          value={justification}
          onChange={setJustification}
        />
        <NoticeLine notice={notice} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !stage}>
            Approve
          </button>
          <button
            type="button"
            className="danger"
            disabled={busy || !stage}
            onClick={(event) => void decide(event, 'Deny')}
          >
            Deny
          </button>
        </div>
      </form>
    </li>
  );
}
