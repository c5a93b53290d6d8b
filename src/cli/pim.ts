import { usageError } from './errors.js';
import { when } from './output.js';
import { humanDuration } from './parse.js';

/** PIM for Groups under `/v1.0`, as Graph names it. */
export const PIM = '/identityGovernance/privilegedAccess/group';

export type Kind = 'assignment' | 'eligibility';
export type AccessId = 'member' | 'owner';

export const requestsPath = (kind: Kind) => `${PIM}/${kind}ScheduleRequests`;
export const schedulesPath = (kind: Kind) => `${PIM}/${kind}Schedules`;

export interface Expiration {
  type: 'afterDuration' | 'afterDateTime' | 'noExpiration';
  endDateTime?: string;
  duration?: string;
}

/** The parts of a schedule request that the commands read. */
export interface GraphRequest {
  id: string;
  status: string;
  action: string;
  accessId: AccessId;
  principalId: string;
  groupId: string;
  justification: string | null;
  createdDateTime: string;
  approvalId: string | null;
  scheduleInfo: {
    startDateTime: string | null;
    expiration: { type: string; endDateTime: string | null; duration: string | null };
  };
  ticketInfo: { ticketNumber: string | null; ticketSystem: string | null };
  principal?: { id: string; displayName: string; userPrincipalName: string } | null;
  group?: { id: string; displayName: string } | null;
}

/** The parts of a schedule that the commands read. */
export interface GraphSchedule {
  id: string;
  principalId: string;
  groupId: string;
  accessId: AccessId;
  assignmentType?: 'assigned' | 'activated';
  status: string;
  scheduleInfo: {
    startDateTime: string;
    expiration: { type: string; endDateTime: string | null };
  };
  principal?: { id: string; displayName: string; userPrincipalName: string } | null;
  group?: { id: string; displayName: string } | null;
}

export const PENDING = ['PendingApproval', 'PendingAdminDecision'];

/** The expiration from `--until`, `--for` or `--permanent`; at most one of them may be given. */
export function expirationOf(
  options: { until?: string; for?: string; permanent?: boolean },
  required: boolean,
): Expiration | undefined {
  const given = [options.until, options.for, options.permanent].filter(Boolean).length;
  if (given > 1) throw usageError('Give only one of --until, --for and --permanent.');
  if (options.until) return { type: 'afterDateTime', endDateTime: options.until };
  if (options.for) return { type: 'afterDuration', duration: options.for };
  if (options.permanent) return { type: 'noExpiration' };
  if (required) {
    throw usageError('Say how long: --for DURATION (like 8h or 30d) or --until DATE.');
  }
  return undefined;
}

/** A schedule request's action in words: `activate`, `extend eligibility`, ... */
export function describeAction(kind: Kind, action: string): string {
  const words: Record<string, string> = {
    selfActivate: 'activate',
    selfDeactivate: 'deactivate',
    selfExtend: 'extend',
    selfRenew: 'renew',
    adminAssign: 'assign',
    adminUpdate: 'update',
    adminRemove: 'remove',
    adminExtend: 'extend (admin)',
    adminRenew: 'renew (admin)',
  };
  const verb = words[action] ?? action;
  return kind === 'eligibility' ? `${verb} eligibility` : verb;
}

/** The window of a request for people: `2026-06-01 09:00Z to 11:00Z (2h)` and the like. */
export function requestWindow(request: GraphRequest): string {
  const { startDateTime, expiration } = request.scheduleInfo;
  const start = when(startDateTime);
  if (expiration.type === 'noExpiration') return `from ${start}, no end`;
  if (expiration.endDateTime) {
    const length = expiration.duration ? ` (${humanDuration(expiration.duration)})` : '';
    return `${start} to ${when(expiration.endDateTime)}${length}`;
  }
  if (expiration.duration) return `from ${start} for ${humanDuration(expiration.duration)}`;
  return `from ${start}`;
}
