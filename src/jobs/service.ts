import type { Kysely } from 'kysely';
import type { AuditLog, AuditTarget } from '../audit/audit-log.js';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { groupsByIds, usersByIds } from '../directory/store.js';
import { notifyAll, type Notifier } from '../notify/events.js';
import type { ApprovalService } from '../pim/approvals/service.js';
import type { ScheduleRow } from '../pim/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { expiredEvent, startedEvent } from './activities.js';
import { DAY_MS, OFFSET_MS, remindable } from './due.js';
import * as store from './store.js';
import type { Position, ThresholdKind } from './store.js';

/**
 * Each kind of work a pass does, in the order it does them: after downtime, a schedule that both
 * started and ended meanwhile has its start recorded before its end.
 */
export const JOB_KINDS = ['started', 'expired', 'approvalExpired', 'ending1', 'ending14'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface JobsSettings {
  /** Items per transaction: large enough to catch up fast, small enough to keep requests quick. */
  batchSize: number;
  /**
   * How far behind a cursor a pass looks again, for a schedule whose transaction read the clock
   * before a pass and committed after it, and for instances whose clocks disagree slightly.
   */
  slackMs: number;
}

export const DEFAULT_JOBS_SETTINGS: JobsSettings = { batchSize: 500, slackMs: 10 * 60 * 1000 };

export interface PassOptions {
  batchSize?: number;
  /** Called after each committed batch, between transactions. */
  onBatch?: (kind: JobKind, handled: number) => Promise<void> | void;
  /** Asked before each batch; true ends the pass early, as when the server stops. */
  shouldStop?: () => boolean;
}

export interface PassReport {
  /** Side effects done, by kind: each is counted by the one instance that did it. */
  processed: Record<JobKind, number>;
  /** Transactions run, including those that found nothing to do. */
  batches: number;
  durationMs: number;
  /** False when the pass was asked to stop before it ran out of due work. */
  completed: boolean;
}

/** What the jobs report to metrics; the metrics module implements it. */
export interface JobsObserver {
  itemsProcessed(kind: JobKind, count: number): void;
  passFinished(result: 'success' | 'failure', seconds: number): void;
}

export interface Backlog {
  /** Due items not handled yet (reminders counted before their rules are checked). */
  count: number;
  oldestDueAt: Date | null;
}

interface BatchResult {
  handled: number;
  done: boolean;
  next: Position | null;
}

const DAYS_LEFT = { ending14: 14, ending1: 1 } as const;

/**
 * Marks behind a cursor are never consulted again (past its slack); they are kept this long as
 * a record of which reminders went out, then removed.
 */
const MARK_RETENTION_MS = 30 * DAY_MS;

/**
 * The side effects of time passing. Access never waits for them: every read compares the present
 * with each schedule's window. A pass marks ended schedules `Expired` with their audit event,
 * records the start of schedules that began later than they were written, sends the reminders
 * 14 days and 1 day before an eligibility or an assigned assignment ends, and closes approval
 * stages whose time has run out. Each item is done in the transaction that records it, so it
 * happens once, however many instances run and wherever a pass is interrupted.
 */
export class JobsService {
  private observer: JobsObserver | null = null;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly approvals: ApprovalService,
    private readonly notifier: Notifier,
    private readonly settings: JobsSettings = DEFAULT_JOBS_SETTINGS,
  ) {}

  observe(observer: JobsObserver): void {
    this.observer = observer;
  }

  /**
   * Does every due item, batch after batch, until nothing is due or it is asked to stop. A batch
   * that fails is undone whole and the pass ends with its error. An item whose side effect fails
   * every time (a notifier that always throws on it, say) therefore holds back the items after
   * it in the same order until the cause is fixed; each failed pass is logged and counted in
   * `elevate_jobs_runs_total{result="failure"}`, and access is unaffected meanwhile.
   */
  async runPass(options: PassOptions = {}): Promise<PassReport> {
    const started = performance.now();
    const limit = options.batchSize ?? this.settings.batchSize;
    const report: PassReport = {
      processed: { started: 0, expired: 0, approvalExpired: 0, ending1: 0, ending14: 0 },
      batches: 0,
      durationMs: 0,
      completed: true,
    };

    try {
      kinds: for (const kind of JOB_KINDS) {
        let after: Position | null = null;
        for (;;) {
          if (options.shouldStop?.()) {
            report.completed = false;
            break kinds;
          }
          const batch = await this.runBatch(kind, limit, after);
          report.batches += 1;
          report.processed[kind] += batch.handled;
          this.observer?.itemsProcessed(kind, batch.handled);
          await options.onBatch?.(kind, batch.handled);
          if (batch.done) break;
          after = batch.next;
        }
      }
    } catch (error) {
      this.observer?.passFinished('failure', (performance.now() - started) / 1000);
      throw error;
    }

    report.durationMs = performance.now() - started;
    this.observer?.passFinished('success', report.durationMs / 1000);
    return report;
  }

  /** When the next item falls due: in the past when some are due now, null when none will. */
  async nextDueAt(): Promise<Date | null> {
    const db = this.db.kysely;
    const cursors = await this.cursors();
    const ending = async (kind: 'ending14' | 'ending1') => {
      const after = shift(cursors[kind], OFFSET_MS[kind]);
      return shift(await store.nextEnd(db, { after, remindable: true }), -OFFSET_MS[kind]);
    };

    const times = [
      await store.nextEnd(db),
      await store.nextStageDeadline(db),
      await store.nextStart(db, cursors.started),
      await ending('ending14'),
      await ending('ending1'),
    ];
    return earliest(times);
  }

  /** The due work nobody has done yet, read at once from the database for the metrics. */
  async backlog(): Promise<Backlog> {
    const db = this.db.kysely;
    const now = this.clock.now().getTime();
    const cursors = await this.cursors();

    const parts = [await store.endedBacklog(db, iso(now)), await store.stageBacklog(db, iso(now))];
    for (const kind of ['started', 'ending14', 'ending1'] as const) {
      const offset = OFFSET_MS[kind];
      const through = shift(cursors[kind], offset) ?? '';
      const endsAfter = kind === 'ending14' ? iso(now + DAY_MS) : iso(now);
      const from = kind !== 'started' && endsAfter > through ? endsAfter : through;
      const part = await store.thresholdBacklog(db, kind, from, iso(now + offset));
      parts.push({ count: part.count, oldest: shift(part.oldest, -offset) });
    }

    return {
      count: parts.reduce((sum, part) => sum + part.count, 0),
      oldestDueAt: earliest(parts.map((part) => part.oldest)),
    };
  }

  private runBatch(kind: JobKind, limit: number, after: Position | null): Promise<BatchResult> {
    switch (kind) {
      case 'expired':
        return this.expireBatch(limit);
      case 'approvalExpired':
        return this.approvals
          .expireDue(limit)
          .then((count) => ({ handled: count, done: count < limit, next: null }));
      default:
        return this.thresholdBatch(kind, limit, after);
    }
  }

  /**
   * Schedules that ran out: `Expired`, with their audit event and, if remindable, an email. The
   * batch is set-based: one update moves them all, a few multi-row inserts write their audit
   * events, and the notifier is given all its events at once, with the rows read here.
   *
   * A catch-up on SQLite still runs at a few thousand schedules a second, short of 10,000. Most of
   * a batch's time is now its writes: the status update passes through the four indexes of
   * `pim_schedules` that hold the status, and the commit writes every page the update, the audit
   * events and the outbox rows touched, scattered over those indexes.
   */
  private expireBatch(limit: number): Promise<BatchResult> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const now = this.clock.now().toISOString();
      const due = await store.claimEnded(trx, this.db.dialect, now, limit);
      const moved = await store.markExpired(
        trx,
        due.map((s) => s.id),
        now,
      );
      const expired = due.filter((schedule) => moved.has(schedule.id));
      const { targets, users, groups } = await this.targetsOf(trx, expired);

      await this.audit.recordMany(
        trx,
        expired.map((s) => ({ actor: systemActor(), event: expiredEvent(s, targets(s)) })),
      );
      const ended = expired.filter(remindable);
      await notifyAll(
        this.notifier,
        trx,
        ended.map((s) => ({ type: 'assignmentEnded', scheduleId: s.id })),
        // The schedules as this transaction now sees them: the update changed only their status.
        { schedules: ended.map((s) => ({ ...s, status: 'Expired' })), users, groups },
      );
      return { handled: moved.size, done: due.length < limit, next: null };
    });
  }

  /**
   * Thresholds of one kind crossed since its cursor, in order. The cursor is locked for the
   * transaction, so one instance at a time walks a kind; the marks make a threshold seen twice
   * (within the slack, or by two passes) take effect once.
   */
  private thresholdBatch(
    kind: ThresholdKind,
    limit: number,
    after: Position | null,
  ): Promise<BatchResult> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const through = await store.lockCursor(trx, this.db.dialect, kind);
      if (through === undefined) return { handled: 0, done: true, next: null };

      const now = this.clock.now().getTime();
      const offset = OFFSET_MS[kind];
      const floor = through === '' ? '' : iso(Date.parse(through) - this.settings.slackMs + offset);
      const from = after !== null && after.at > floor ? after : { at: floor, id: '' };
      const endsAfter = iso(kind === 'ending14' ? now + DAY_MS : now);
      const rows = await store.thresholdCandidates(
        trx,
        kind,
        { from, to: iso(now + offset), endsAfter },
        limit,
      );
      const targets = kind === 'started' ? (await this.targetsOf(trx, rows)).targets : () => [];

      const marked = rows.map((row) => {
        const at = kind === 'started' ? row.start_at : (row.end_at ?? '');
        const threshold = Date.parse(at) - offset;
        const mark = {
          key: `${kind}:${row.id}:${at}`,
          kind,
          due_at: iso(threshold),
          done_at: iso(now),
        };
        return { row, mark, due: isDue(kind, row, threshold) };
      });
      const inserted = await store.insertMarks(
        trx,
        marked.filter((m) => m.due).map((m) => m.mark),
      );
      const fresh = marked.filter((m) => inserted.has(m.mark.key)).map((m) => m.row);

      if (kind === 'started') {
        await this.audit.recordMany(
          trx,
          fresh.map((row) => ({ actor: systemActor(), event: startedEvent(row, targets(row)) })),
        );
      } else {
        await notifyAll(
          this.notifier,
          trx,
          fresh.map((row) => ({
            type: 'assignmentEnding',
            scheduleId: row.id,
            daysLeft: DAYS_LEFT[kind],
          })),
          { schedules: fresh },
        );
      }
      const handled = fresh.length;

      const last = rows.at(-1);
      const done = rows.length < limit || last === undefined;
      const lastAt = kind === 'started' ? last?.start_at : last?.end_at;
      const reached = done || !lastAt ? now : Date.parse(lastAt) - offset;
      await store.advanceCursor(trx, kind, iso(reached));
      if (done) await store.pruneMarks(trx, kind, iso(reached - MARK_RETENTION_MS));
      return { handled, done, next: done || !lastAt || !last ? null : { at: lastAt, id: last.id } };
    });
  }

  /**
   * The audit targets of each schedule: its group, its principal and the request that made it;
   * and the groups and principals read for them.
   */
  private async targetsOf(trx: Kysely<Database>, schedules: ScheduleRow[]) {
    const groups = await groupsByIds(trx, [...new Set(schedules.map((s) => s.group_id))]);
    const users = await usersByIds(trx, [...new Set(schedules.map((s) => s.principal_id))]);
    const groupById = new Map(groups.map((g) => [g.id, g]));
    const userById = new Map(users.map((u) => [u.id, u]));

    const targets = (schedule: ScheduleRow): AuditTarget[] => {
      const group = groupById.get(schedule.group_id);
      const user = userById.get(schedule.principal_id);
      return [
        { id: schedule.group_id, type: 'Group', displayName: group?.display_name ?? null },
        {
          id: schedule.principal_id,
          type: 'User',
          displayName: user?.display_name ?? null,
          userPrincipalName: user?.user_principal_name ?? null,
        },
        { id: schedule.created_using, type: 'Request' },
      ];
    };
    return { targets, users, groups };
  }

  private async cursors(): Promise<Record<ThresholdKind, string>> {
    const rows = await store.readCursors(this.db.kysely);
    const through = (kind: ThresholdKind) => rows.find((r) => r.kind === kind)?.through ?? '';
    return {
      started: through('started'),
      ending14: through('ending14'),
      ending1: through('ending1'),
    };
  }
}

/**
 * Whether a crossed threshold calls for its side effect. The query already chose the starts to
 * record. A reminder goes out for a schedule that was in effect, and already ending where it
 * does, when the threshold passed: a 10-day assignment gets no "ends in 14 days", and a schedule
 * extended just now gets its reminders from its new end.
 */
function isDue(kind: ThresholdKind, row: ScheduleRow, threshold: number): boolean {
  if (kind === 'started') return true;
  return Date.parse(row.modified_at) < threshold && Date.parse(row.start_at) <= threshold;
}

function systemActor() {
  return { caller: null, correlationId: newId() };
}

function shift(at: string, ms: number): string;
function shift(at: string | null, ms: number): string | null;
function shift(at: string | null, ms: number): string | null {
  if (at === null) return null;
  if (at === '') return '';
  return iso(Date.parse(at) + ms);
}

function earliest(times: (string | null)[]): Date | null {
  const present = times.filter((t): t is string => t !== null && t !== '');
  if (present.length === 0) return null;
  return new Date(present.reduce((a, b) => (a < b ? a : b)));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
