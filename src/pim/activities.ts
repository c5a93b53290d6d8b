import type { AccessId, ScheduleKind } from '../db/schema.js';
import type { GroupRow, UserRow } from '../directory/store.js';
import type { RequestRow } from './schema.js';

/**
 * Audit activity names for PIM requests, in the words Entra uses for PIM for Groups (for example
 * "Add member to role completed (PIM activation)"), with "owner" in place of "member" for
 * ownership.
 */
export function requestActivity(
  kind: ScheduleKind,
  action: string,
  accessId: AccessId,
  phase: 'requested' | 'completed' | 'approval requested' | 'canceled',
  permanent: boolean,
): string {
  const who = accessId;
  const eligible = kind === 'eligibility' ? `eligible ${who}` : who;
  const duration = permanent ? 'permanent' : 'timebound';

  switch (action) {
    case 'selfActivate':
      return `Add ${who} to role ${phase} (PIM activation)`;
    case 'selfDeactivate':
      return `Remove ${who} from role ${phase} (PIM deactivate)`;
    case 'adminAssign':
      return `Add ${eligible} to role in PIM ${phase} (${duration})`;
    case 'adminRemove':
      return `Remove ${eligible} from role in PIM ${phase} (${duration})`;
    case 'adminUpdate':
      return `Update ${eligible} in PIM ${phase}`;
    case 'adminExtend':
    case 'selfExtend':
      return `Update ${eligible} in PIM ${phase} (extend)`;
    case 'adminRenew':
    case 'selfRenew':
      return `Add ${eligible} to role in PIM ${phase} (renew)`;
    default:
      return `Process request`;
  }
}

/** The targets of a request's audit event: its group, its principal and the request. */
export function requestTargets(group: GroupRow, principal: UserRow, requestId: string) {
  return [
    { id: group.id, type: 'Group' as const, displayName: group.display_name },
    {
      id: principal.id,
      type: 'User' as const,
      displayName: principal.display_name,
      userPrincipalName: principal.user_principal_name,
    },
    { id: requestId, type: 'Request' as const },
  ];
}

export function requestDetails(request: RequestRow) {
  return {
    requestId: request.id,
    accessId: request.access_id,
    justification: request.justification,
    ticketNumber: request.ticket_number,
    ticketSystem: request.ticket_system,
    startDateTime: request.start_at,
    endDateTime: request.expiration_end,
  };
}
