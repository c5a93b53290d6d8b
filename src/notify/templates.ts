import type { AccessId, ScheduleKind } from '../db/schema.js';

/** Who an email speaks to: it is worded for them. */
export type Audience = 'admin' | 'requestor' | 'approver';

/** What an email says happened. */
export type Template =
  | 'assigned'
  | 'changed'
  | 'removed'
  | 'activated'
  | 'deactivated'
  | 'approvalNeeded'
  | 'approvalRequested'
  | 'approved'
  | 'stageApproved'
  | 'denied'
  | 'notGranted'
  | 'decidedByOther'
  | 'canceled'
  | 'expired'
  | 'ending'
  | 'ended';

/** The request a message is about: an activation, or an extension or renewal asked for. */
export type RequestAction = 'activate' | 'extend' | 'renew';

export interface Person {
  displayName: string;
  userPrincipalName: string;
}

/** Everything an email may mention, loaded by the notifier. Values are as users typed them. */
export interface MessageFacts {
  template: Template;
  audience: Audience;
  /** Eligibility, active assignment, or activation (an assignment made by activating). */
  subject: ScheduleKind | 'activation';
  /** What the request asked for, when the message is about a request. */
  requestAction: RequestAction | null;
  accessId: AccessId;
  group: { id: string; displayName: string };
  /** Display names of the directory roles the group holds. */
  roles: string[];
  principal: Person;
  /** Who made the change or the decision; null when time passing made it. */
  actor: Person | null;
  justification: string | null;
  ticket: { number: string; system: string | null } | null;
  start: string | null;
  end: string | null;
  requestId: string | null;
  daysLeft: number | null;
  /** The approver's decision and reason, for decisions. */
  decision: { approved: boolean; justification: string | null } | null;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

/** A piece of wording with the values users typed kept apart, so each rendering can treat them. */
interface Phrase {
  parts: readonly string[];
  values: readonly string[];
}

// A long phrase goes on at the start of the next line after a backslash, which adds no text.
function phrase(parts: TemplateStringsArray, ...values: string[]): Phrase {
  return { parts: [...parts], values };
}

function asText(p: Phrase, clean: (value: string) => string = (value) => value): string {
  return p.parts.reduce(
    (out, part, i) => out + part + (i < p.values.length ? clean(p.values[i] ?? '') : ''),
    '',
  );
}

function asHtml(p: Phrase): string {
  return p.parts.reduce(
    (out, part, i) =>
      out + escapeHtml(part) + (i < p.values.length ? escapeHtml(p.values[i] ?? '') : ''),
    '',
  );
}

/**
 * Renders one email in plain text and HTML. Every value a user typed (names, justification,
 * ticket, group name) is escaped in the HTML and stripped of control characters in the subject,
 * so that no name can add a header or markup.
 *
 * @example
 * renderMessage(facts, 'https://elevate.example.com').subject
 * // 'PIM: Alex activated Member of Tier 3 Office Admins'
 */
export function renderMessage(facts: MessageFacts, publicUrl: string): RenderedMessage {
  const wording = describe(facts);
  const link = linkFor(facts, publicUrl);
  const details = detailsOf(facts);
  const footer = footerOf(facts);

  // Long names are cut in the subject only; the body says them in full.
  const subject = headerSafe(`PIM: ${asText(describe(withShortNames(facts)).subject)}`);
  const text = [
    asText(wording.lead, textSafe),
    '',
    ...details.map(([label, value]) => `${`${label}:`.padEnd(19)}${textSafe(value)}`),
    '',
    `${link.label}: ${link.url}`,
    '',
    `-- \n${footer}`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body style="font-family:sans-serif;font-size:14px;color:#1b1b1b">',
    `<p>${asHtml(wording.lead)}</p>`,
    '<table cellpadding="4" style="border-collapse:collapse">',
    ...details.map(
      ([label, value]) =>
        `<tr><th align="left" valign="top">${escapeHtml(label)}</th>` +
        `<td>${escapeHtml(value).replace(/\n/g, '<br>')}</td></tr>`,
    ),
    '</table>',
    `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
    `<p style="color:#666;font-size:12px">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');

  return { subject, text, html };
}

// Wording

const SUBJECT_NAME_LIMIT = 60;

function withShortNames(facts: MessageFacts): MessageFacts {
  const cut = (value: string) => short(value, SUBJECT_NAME_LIMIT);
  return {
    ...facts,
    principal: { ...facts.principal, displayName: cut(facts.principal.displayName) },
    actor: facts.actor ? { ...facts.actor, displayName: cut(facts.actor.displayName) } : null,
    group: { ...facts.group, displayName: cut(facts.group.displayName) },
  };
}

function describe(facts: MessageFacts): { subject: Phrase; lead: Phrase } {
  const who = facts.principal.displayName;
  const by = facts.actor?.displayName ?? 'Elevate';
  const target = `${accessLabel(facts.accessId)} of ${facts.group.displayName}`;
  const yours = facts.audience === 'requestor';
  const about = aboutTarget(facts.subject, target);
  const request = requestPhrase(facts, target);
  const whose = yours ? 'Your' : `${who}'s`;

  switch (facts.template) {
    case 'assigned':
      return facts.subject === 'eligibility'
        ? {
            subject: yours
              ? phrase`You are eligible for ${target}`
              : phrase`${who} made eligible for ${target}`,
            lead: yours
              ? phrase`${by} made you eligible for ${target}. Activate it when you need it.`
              : phrase`${by} made ${who} eligible for ${target}.`,
          }
        : {
            subject: yours
              ? phrase`You were assigned ${target}`
              : phrase`${who} assigned ${target}`,
            lead: yours
              ? phrase`${by} assigned you ${target}; it is active now or from its start.`
              : phrase`${by} assigned ${who} ${target} as an active assignment.`,
          };
    case 'changed':
      return {
        subject: phrase`${whose} ${about} changed`,
        lead: phrase`${by} changed ${yours ? 'your' : `${who}'s`} ${about}.`,
      };
    case 'removed':
      return {
        subject: phrase`${whose} ${about} was removed`,
        lead: phrase`${by} removed ${yours ? 'your' : `${who}'s`} ${about}.`,
      };
    case 'activated':
      return {
        subject: yours ? phrase`You activated ${target}` : phrase`${who} activated ${target}`,
        lead: yours
          ? phrase`You activated ${target}. Deactivate it when you are done.`
          : phrase`${who} activated ${target}.`,
      };
    case 'deactivated':
      return {
        subject: yours ? phrase`You deactivated ${target}` : phrase`${who} deactivated ${target}`,
        lead: yours
          ? phrase`Your activation of ${target} has ended.`
          : phrase`${who} deactivated ${target}.`,
      };
    case 'approvalNeeded':
      return {
        subject: phrase`${who} asks ${request}: needs your decision`,
        lead: phrase`${who} asks ${request}. The request needs your decision: approve or deny it.`,
      };
    case 'approvalRequested':
      return {
        subject: phrase`Your request ${request} waits for approval`,
        lead: phrase`Your request ${request} waits for an approver's decision. \
You will be told when it is decided.`,
      };
    case 'approved':
      return {
        subject: phrase`Your request ${request} was approved`,
        lead: phrase`${by} approved your request ${request}.`,
      };
    case 'stageApproved':
      return {
        subject: phrase`Your request ${request} waits for its next approver`,
        lead: phrase`${by} approved your request ${request}; \
it now waits for the next stage's approvers.`,
      };
    case 'denied':
      return {
        subject: phrase`Your request ${request} was denied`,
        lead: phrase`${by} denied your request ${request}.`,
      };
    case 'notGranted':
      return {
        subject: phrase`Your approved request ${request} could not be granted`,
        lead: phrase`${by} approved your request ${request}, but it could no longer be granted: \
the eligibility or assignment it needs has changed. Ask again if you still need it.`,
      };
    case 'decidedByOther':
      return facts.decision?.approved
        ? {
            subject: phrase`${who}'s request ${request} was approved by ${by}`,
            lead: phrase`${by} approved ${who}'s request ${request}. Nothing waits for you.`,
          }
        : {
            subject: phrase`${who}'s request ${request} was denied by ${by}`,
            lead: phrase`${by} denied ${who}'s request ${request}. Nothing waits for you.`,
          };
    case 'canceled':
      return yours
        ? {
            subject: phrase`Your request ${request} was canceled`,
            lead: phrase`Your request ${request} was canceled.`,
          }
        : {
            subject: phrase`${who} canceled the request ${request}`,
            lead: phrase`${who} canceled the request ${request}. It no longer needs your decision.`,
          };
    case 'expired':
      return yours
        ? {
            subject: phrase`Your request ${request} expired without a decision`,
            lead: phrase`Your request ${request} was not decided in time and has expired. \
Ask again if you still need it.`,
          }
        : {
            subject: phrase`${who}'s request ${request} expired without a decision`,
            lead: phrase`${who}'s request ${request} was not decided in time and has expired.`,
          };
    case 'ending': {
      const days = facts.daysLeft === 1 ? '1 day' : `${facts.daysLeft ?? 0} days`;
      return {
        subject: phrase`${whose} ${about} ends in ${days}`,
        lead: yours
          ? phrase`Your ${about} ends in ${days}. Ask to extend it if you still need it.`
          : phrase`${who}'s ${about} ends in ${days}.`,
      };
    }
    case 'ended':
      return {
        subject: phrase`${whose} ${about} has ended`,
        lead: yours
          ? phrase`Your ${about} has ended. You can ask to renew it.`
          : phrase`${who}'s ${about} has ended.`,
      };
  }
}

function requestPhrase(facts: MessageFacts, target: string): string {
  switch (facts.requestAction) {
    case 'extend':
      return `to extend the ${aboutTarget(facts.subject, target)}`;
    case 'renew':
      return `to renew the ${aboutTarget(facts.subject, target)}`;
    default:
      return `to activate ${target}`;
  }
}

/** `eligible assignment for Member of Sales`, `activation of Member of Sales`. */
function aboutTarget(subject: MessageFacts['subject'], target: string): string {
  if (subject === 'eligibility') return `eligible assignment for ${target}`;
  return subject === 'activation' ? `activation of ${target}` : `active assignment for ${target}`;
}

function accessLabel(accessId: AccessId): string {
  return accessId === 'owner' ? 'Owner' : 'Member';
}

function detailsOf(facts: MessageFacts): [string, string][] {
  const rows: [string, string][] = [
    ['Principal', `${facts.principal.displayName} (${facts.principal.userPrincipalName})`],
    ['Group', facts.group.displayName],
    ['Access', accessLabel(facts.accessId)],
  ];
  if (facts.roles.length > 0) rows.push(['Roles', facts.roles.join(', ')]);
  if (facts.start) rows.push(['Starts', utc(facts.start)]);
  rows.push(['Ends', facts.end ? utc(facts.end) : 'never']);
  if (facts.justification) rows.push(['Justification', facts.justification]);
  if (facts.ticket) {
    const system = facts.ticket.system ? `${facts.ticket.system} ` : '';
    rows.push(['Ticket', `${system}${facts.ticket.number}`]);
  }
  if (facts.actor && facts.decision) rows.push(['Decided by', facts.actor.displayName]);
  if (facts.decision?.justification) rows.push(["Approver's reason", facts.decision.justification]);
  if (facts.requestId) rows.push(['Request', facts.requestId]);
  return rows;
}

function linkFor(facts: MessageFacts, publicUrl: string): { label: string; url: string } {
  const base = publicUrl.replace(/\/+$/, '');
  if (facts.template === 'approvalNeeded' && facts.requestId) {
    return {
      label: 'Decide in Elevate',
      url: `${base}/#/approvals/${encodeURIComponent(facts.requestId)}`,
    };
  }
  if (facts.audience === 'requestor')
    return { label: 'Your roles in Elevate', url: `${base}/#/my-roles` };
  return {
    label: 'The group in Elevate',
    url: `${base}/#/groups/${encodeURIComponent(facts.group.id)}`,
  };
}

function footerOf(facts: MessageFacts): string {
  switch (facts.audience) {
    case 'admin':
      return (
        'You receive this because you administer privileged access, or are named in the ' +
        'notification settings of this group.'
      );
    case 'approver':
      return 'You receive this because you are an approver of this request.';
    case 'requestor':
      return 'You receive this because it concerns your own access.';
  }
}

// Safety of values

/** Times in UTC, as `2026-06-01 09:00 UTC`. */
export function utc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

// C0 and C1 controls (CR and LF among them), DEL, and the Unicode line and paragraph separators.
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;
const CONTROL_BUT_NEWLINE = /(?!\n)[\p{Cc}\u2028\u2029]/gu;

/**
 * A header value that cannot start a new header line: control characters (CR and LF among them)
 * become spaces. The mail library encodes headers too; this does not rely on it.
 */
export function headerSafe(value: string, limit = 200): string {
  return short(value.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim(), limit);
}

/** Body text keeps its line breaks and loses other control characters. */
function textSafe(value: string): string {
  return value.replace(/\r\n?/g, '\n').replace(CONTROL_BUT_NEWLINE, ' ');
}

function short(value: string, limit: number): string {
  const chars = [...value];
  return chars.length <= limit ? value : `${chars.slice(0, limit - 1).join('')}…`;
}
