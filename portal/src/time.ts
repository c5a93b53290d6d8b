/**
 * The server's clock, as the server last said it was. Time left and the extension and renewal
 * windows are counted from it, so a browser whose clock is wrong still shows the server's truth.
 * The page carries the server's time when it is served, and `syncServerClock` asks again.
 */
const served = document.querySelector<HTMLMetaElement>('meta[name="elevate-server-time"]');
let offset = offsetFrom(served?.content ?? null);

function offsetFrom(iso: string | null): number {
  const at = Date.parse(iso ?? '');
  return Number.isNaN(at) ? 0 : at - Date.now();
}

export function serverNow(): Date {
  return new Date(Date.now() + offset);
}

/** Reads the server's time again, from the header of the portal's own page. */
export async function syncServerClock(): Promise<void> {
  try {
    const response = await fetch('/', { method: 'HEAD', cache: 'no-store' });
    const header = response.headers.get('elevate-server-time');
    if (header) offset = offsetFrom(header);
  } catch {
    // The last known offset still holds; the next load tries again.
  }
}

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/** `2 h 15 min`, `3 days 4 h`: a duration for people, rounded to what matters. */
export function describeDuration(ms: number): string {
  if (ms <= 0) return 'none';
  const minutes = Math.floor(ms / 60000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return hours > 0 ? `${plural(days, 'day')} ${hours} h` : plural(days, 'day');
  if (hours > 0) return rest > 0 ? `${hours} h ${rest} min` : `${hours} h`;
  return minutes > 0 ? `${minutes} min` : 'less than a minute';
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return 'no end';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** Milliseconds in an ISO 8601 duration of days, hours and minutes such as `PT8H` or `P365D`. */
export function isoDurationMs(text: string | null | undefined): number | null {
  if (!text) return null;
  const match = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
    text,
  );
  if (!match || text === 'P' || text.endsWith('T')) return null;
  const [, weeks, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
  return (
    ((((weeks ?? 0) * 7 + (days ?? 0)) * 24 + (hours ?? 0)) * 60 + (minutes ?? 0)) * 60000 +
    (seconds ?? 0) * 1000
  );
}

/** An ISO 8601 duration of whole minutes, such as `PT1H30M`. */
export function toIsoDuration(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `PT${hours > 0 ? `${hours}H` : ''}${rest > 0 || hours === 0 ? `${rest}M` : ''}`;
}

/** A `datetime-local` input's value for a date, in the browser's time zone. */
export function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

/** The instant a `datetime-local` input's value names, or null when it is empty or invalid. */
export function fromLocalInput(value: string): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
