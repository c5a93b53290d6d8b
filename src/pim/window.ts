import { badRequest } from '../http/errors.js';
import { formatDuration, parseDateTime, parseDuration } from './durations.js';
import type { RuleFailure } from './errors.js';
import type { ExpirationSetting } from './policies/model.js';
import type { RequestBody } from './schema.js';

export type ExpirationType = 'afterDuration' | 'afterDateTime' | 'noExpiration';

/** The window a request asks for, after the server has decided its start. */
export interface RequestedWindow {
  start: Date;
  end: Date | null;
  expirationType: ExpirationType;
  /** The duration as the client gave it, for the request's record. */
  duration: string | null;
}

const EXPIRATION_TYPES: Record<string, ExpirationType> = {
  afterduration: 'afterDuration',
  afterdatetime: 'afterDateTime',
  noexpiration: 'noExpiration',
};

/**
 * Reads `scheduleInfo`. A start in the past becomes now, as in Graph, so that a back-dated start
 * can never stretch the window beyond the maximum; the response shows the start that was used.
 * Without an expiration, `fallback` decides: activations take the policy's maximum, admin
 * assignments are permanent (and then fail the expiration rule if the policy demands an end).
 */
export function readWindow(
  info: RequestBody['scheduleInfo'],
  now: Date,
  fallback: { durationMs: number | null },
): RequestedWindow {
  const requestedStart = info?.startDateTime
    ? parseDateTime(info.startDateTime, 'scheduleInfo.startDateTime')
    : now;
  const start = requestedStart < now ? now : requestedStart;

  const expiration = info?.expiration;
  const rawType = expiration?.type?.toLowerCase();
  if (rawType === undefined || rawType === 'notspecified') {
    if (expiration?.endDateTime) return afterDateTime(start, expiration.endDateTime);
    if (expiration?.duration) return afterDuration(start, expiration.duration);
    if (fallback.durationMs === null) {
      return { start, end: null, expirationType: 'noExpiration', duration: null };
    }
    const end = new Date(start.getTime() + fallback.durationMs);
    return {
      start,
      end,
      expirationType: 'afterDuration',
      duration: formatDuration(fallback.durationMs),
    };
  }

  const type = EXPIRATION_TYPES[rawType];
  if (!type) {
    throw badRequest(
      'scheduleInfo.expiration.type must be afterDuration, afterDateTime or noExpiration.',
    );
  }
  if (type === 'noExpiration') return { start, end: null, expirationType: type, duration: null };
  if (type === 'afterDateTime') {
    if (!expiration?.endDateTime) {
      throw badRequest('scheduleInfo.expiration.endDateTime is required for afterDateTime.');
    }
    return afterDateTime(start, expiration.endDateTime);
  }
  if (!expiration?.duration) {
    throw badRequest('scheduleInfo.expiration.duration is required for afterDuration.');
  }
  return afterDuration(start, expiration.duration);
}

function afterDateTime(start: Date, endDateTime: string): RequestedWindow {
  const end = parseDateTime(endDateTime, 'scheduleInfo.expiration.endDateTime');
  return { start, end, expirationType: 'afterDateTime', duration: null };
}

function afterDuration(start: Date, duration: string): RequestedWindow {
  const ms = parseDuration(duration, 'scheduleInfo.expiration.duration');
  return {
    start,
    end: new Date(start.getTime() + ms),
    expirationType: 'afterDuration',
    duration,
  };
}

/**
 * The expiration rule: a window must end after it starts, must end at all when the policy says
 * so, and must be no longer than the policy's maximum, counted from `from` (its start, or now
 * for an extension).
 */
export function checkExpiration(
  window: { start: Date; end: Date | null },
  setting: ExpirationSetting,
  from: Date = window.start,
): RuleFailure[] {
  if (window.end === null) {
    return setting.isExpirationRequired
      ? [{ rule: 'ExpirationRule', reason: 'The policy requires an end date or a duration.' }]
      : [];
  }
  if (window.end <= window.start) {
    return [{ rule: 'ExpirationRule', reason: 'The duration must be greater than zero.' }];
  }
  const max = setting.maximumDurationMs;
  if (setting.isExpirationRequired && max !== null && window.end.getTime() - from.getTime() > max) {
    return [
      {
        rule: 'ExpirationRule',
        reason: `The policy allows at most ${formatDuration(max)}.`,
      },
    ];
  }
  return [];
}
