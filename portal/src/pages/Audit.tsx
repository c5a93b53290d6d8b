import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, get, odataString, query, type Collection } from '../api';
import {
  TextField,
  SelectField,
  NoticeLine,
  Page,
  errorNotice,
  type Notice,
} from '../components/ui';
import { download, toCsv } from '../csv';
import type { AuditEvent, User } from '../graph';
import { formatDateTime, fromLocalInput } from '../time';

const CATEGORIES = ['GroupManagement', 'RoleManagement', 'UserManagement', 'Policy'];

interface Filters {
  from: string;
  to: string;
  category: string;
  initiator: string;
}

const EMPTY: Filters = { from: '', to: '', category: '', initiator: '' };

/** The `$filter` for the chosen filters; the initiator is looked up by user name. */
async function buildFilter(filters: Filters): Promise<string> {
  const parts: string[] = [];
  const from = fromLocalInput(filters.from);
  const to = fromLocalInput(filters.to);
  if (from) parts.push(`activityDateTime ge ${from.toISOString()}`);
  if (to) parts.push(`activityDateTime le ${to.toISOString()}`);
  if (filters.category) parts.push(`category eq ${odataString(filters.category)}`);
  if (filters.initiator.trim()) {
    const name = filters.initiator.trim();
    let user: User;
    try {
      user = await get<User>(`/v1.0/users/${encodeURIComponent(name)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        throw new Error(
          `No user is called ${name}. Use their user name, such as alex@example.com.`,
        );
      }
      throw error;
    }
    parts.push(`initiatedBy/user/id eq ${odataString(user.id)}`);
  }
  return parts.join(' and ');
}

function initiator(event: AuditEvent): string {
  return (
    event.initiatedBy.user?.userPrincipalName ??
    event.initiatedBy.user?.displayName ??
    event.initiatedBy.app?.displayName ??
    '—'
  );
}

/** Named targets only: a request's own id tells a reader nothing. */
function targets(event: AuditEvent): string {
  return event.targetResources
    .filter((t) => t.displayName)
    .map((t) => t.displayName)
    .join(', ');
}

/** Every detail, for the export. */
function allDetails(event: AuditEvent): string {
  return event.additionalDetails.map((d) => `${d.key}: ${d.value}`).join('; ');
}

const SHOWN_DETAILS: Record<string, string> = {
  justification: 'Justification',
  ticketNumber: 'Ticket',
  approverJustification: "Approver's justification",
  outcome: 'Outcome',
};

/** The details a person reads in the table: why, which ticket, and what was decided. */
function details(event: AuditEvent): string {
  return event.additionalDetails
    .filter((d) => d.key in SHOWN_DETAILS && d.value)
    .map((d) => `${SHOWN_DETAILS[d.key]}: ${d.value}`)
    .join(' · ');
}

/** Who did what and when: a filterable view of the audit log, with CSV export. */
export function AuditPage() {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  async function load(url: string, append: boolean) {
    setBusy(true);
    setNotice(null);
    try {
      const page = await get<Collection<AuditEvent>>(url);
      setEvents((current) => (append && current ? [...current, ...page.value] : page.value));
      const link = page['@odata.nextLink'];
      const nextUrl = link ? new URL(link, window.location.origin) : null;
      setNext(nextUrl ? nextUrl.pathname + nextUrl.search : null);
      if (!append) {
        setNotice({ kind: 'success', text: `${page.value.length} events shown.` });
      }
    } catch (error) {
      setNotice(errorNotice(error));
    } finally {
      setBusy(false);
    }
  }

  async function search(event?: FormEvent) {
    event?.preventDefault();
    try {
      const filter = await buildFilter(filters);
      await load(
        `/v1.0/auditLogs/directoryAudits${query({ $filter: filter, $top: '100' })}`,
        false,
      );
    } catch (error) {
      setNotice(errorNotice(error));
    }
  }

  function exportCsv() {
    if (!events) return;
    const csv = toCsv(
      ['Date', 'Category', 'Activity', 'Result', 'Reason', 'Initiated by', 'Targets', 'Details'],
      events.map((e) => [
        e.activityDateTime,
        e.category,
        e.activityDisplayName,
        e.result,
        e.resultReason,
        initiator(e),
        e.targetResources.map((t) => t.displayName ?? t.id).join(', '),
        allDetails(e),
      ]),
    );
    download('elevate-audit.csv', csv);
  }

  useEffect(() => {
    void search();
    // The first, unfiltered page is shown once, when the page opens.
  }, []);

  const set = (key: keyof Filters) => (value: string) =>
    setFilters((current) => ({ ...current, [key]: value }));

  return (
    <Page title="Audit" intro="Every change, decision and refusal, newest first.">
      <form className="card filters" onSubmit={(event) => void search(event)} aria-label="Filters">
        <TextField
          id="audit-from"
          label="From"
          type="datetime-local"
          value={filters.from}
          onChange={set('from')}
        />
        <TextField
          id="audit-to"
          label="Until"
          type="datetime-local"
          value={filters.to}
          onChange={set('to')}
        />
        <SelectField
          id="audit-category"
          label="Category"
          value={filters.category}
          onChange={set('category')}
        >
          <option value="">All</option>
          {CATEGORIES.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </SelectField>
        <TextField
          id="audit-initiator"
          label="Initiated by (user name)"
          value={filters.initiator}
          onChange={set('initiator')}
        />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Show events
          </button>
          <button type="button" disabled={!events?.length} onClick={exportCsv}>
            Export CSV
          </button>
        </div>
      </form>
      <NoticeLine notice={notice} />
      {events ? (
        <div className="table-wrap card">
          <table className="list audit">
            <caption className="sr-only">Audit events</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Activity</th>
                <th scope="col">Result</th>
                <th scope="col">By</th>
                <th scope="col">Targets</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td data-label="When" className="when">
                    {formatDateTime(e.activityDateTime)}
                  </td>
                  <td data-label="Activity">
                    {e.activityDisplayName}
                    <div className="muted">{e.category}</div>
                  </td>
                  <td data-label="Result">
                    <span className={e.result === 'success' ? 'badge' : 'badge badge-bad'}>
                      {e.result}
                    </span>
                    {e.resultReason ? <div className="muted">{e.resultReason}</div> : null}
                  </td>
                  <td data-label="By">{initiator(e)}</td>
                  <td data-label="Targets">{targets(e)}</td>
                  <td data-label="Details">{details(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {next ? (
            <button type="button" disabled={busy} onClick={() => void load(next, true)}>
              Load more
            </button>
          ) : null}
        </div>
      ) : (
        <p className="muted">Choose filters, or none, and show the events.</p>
      )}
    </Page>
  );
}
