import type { AuditEvent, AuditTarget } from '../audit/audit-log.js';
import type { ScheduleRow } from '../pim/schema.js';

/**
 * The audit events of time passing, in the words Entra uses for PIM for Groups. The system is
 * their initiator: nobody acted, a schedule reached its start or its end.
 */
export function expiredEvent(schedule: ScheduleRow, targets: AuditTarget[]): AuditEvent {
  const who = schedule.access_id;
  const activity =
    schedule.assignment_type === 'activated'
      ? `Remove ${who} from role (PIM activation expired)`
      : `Remove ${schedule.kind === 'eligibility' ? `eligible ${who}` : who} from role in PIM ` +
        'completed (timebound)';
  return {
    category: 'GroupManagement',
    service: 'PIM',
    activity,
    operationType: 'Unassign',
    result: 'success',
    resultReason: 'The schedule reached its end.',
    targets,
    details: scheduleDetails(schedule),
  };
}

export function startedEvent(schedule: ScheduleRow, targets: AuditTarget[]): AuditEvent {
  const who = schedule.access_id;
  const duration = schedule.end_at === null ? 'permanent' : 'timebound';
  const activity =
    schedule.assignment_type === 'activated'
      ? `Add ${who} to role (PIM activation started)`
      : `Add ${schedule.kind === 'eligibility' ? `eligible ${who}` : who} to role in PIM ` +
        `started (${duration})`;
  return {
    category: 'GroupManagement',
    service: 'PIM',
    activity,
    operationType: 'Assign',
    result: 'success',
    resultReason: 'The schedule reached its start.',
    targets,
    details: scheduleDetails(schedule),
  };
}

function scheduleDetails(schedule: ScheduleRow) {
  return {
    scheduleId: schedule.id,
    requestId: schedule.created_using,
    accessId: schedule.access_id,
    startDateTime: schedule.start_at,
    endDateTime: schedule.end_at,
  };
}
