import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import type { Clock } from '../shared/clock.js';
import * as store from './store.js';
import { ATTEMPT_LEASE_MS, type MailTransport } from './transport.js';

export interface OutboxWorkerOptions {
  /** The `From` of every email. */
  from: string;
  log?: FastifyBaseLogger | undefined;
  /** Attempts before a message is given up as dead; 10 by default. */
  maxAttempts?: number;
}

export interface DeliveryReport {
  sent: number;
  retrying: number;
  dead: number;
}

/** The wait before the attempt after `attempts` failed ones: 30 s, doubling, at most an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 60 * 60_000);
}

const BATCH = 20;
/** The longest sleep: messages written by other instances, or outside a request, wait no more. */
const IDLE_MS = 60_000;
const AFTER_ERROR_MS = 10_000;
const ERROR_LIMIT = 500;

/**
 * Sends the outbox's due messages, at least once each. Every attempt is claimed and committed
 * before sending, so a crash mid-send leads to another attempt with the same Message-ID (a
 * recognisable duplicate) rather than a lost email. Failures back off exponentially; after the
 * last attempt a message is kept as 'dead' for an administrator to see and retry.
 *
 * `deliverDue` does one pass and is what tests drive with a fake clock; `start` runs passes in a
 * loop that sleeps until the next message is due or `wake` is called.
 */
export class OutboxWorker {
  private readonly maxAttempts: number;
  private running: Promise<void> | null = null;
  private stopped = false;
  private woken = false;
  private interrupt: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly transport: MailTransport,
    private readonly options: OutboxWorkerOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 10;
  }

  /** Sends every message due now, one attempt each, and tells how that went. */
  async deliverDue(): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: 0, retrying: 0, dead: 0 };

    for (;;) {
      const now = this.clock.now();
      const claimed = await store.claimDue(
        this.db.kysely,
        this.db.dialect,
        now.toISOString(),
        new Date(now.getTime() + ATTEMPT_LEASE_MS).toISOString(),
        BATCH,
      );
      for (const message of claimed) {
        const outcome = await this.attempt(message);
        report[outcome] += 1;
      }
      if (claimed.length < BATCH || this.stopped) return report;
    }
  }

  /** Starts the delivery loop; it runs until `stop`. */
  start(): void {
    if (this.running) return;
    this.stopped = false;
    this.options.log?.info({ transport: this.transport.description }, 'email delivery started');
    this.running = this.loop();
  }

  /** Makes a sleeping loop look for due messages now, such as after a commit that wrote some. */
  wake(): void {
    this.woken = true;
    this.interrupt?.();
  }

  /** Lets the attempt in progress finish, then ends the loop and closes the transport. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.interrupt?.();
    await this.running;
    this.running = null;
    this.transport.close();
  }

  private async attempt(message: store.OutboxRow): Promise<keyof DeliveryReport> {
    try {
      await this.transport.send({
        id: message.id,
        messageId: message.message_id,
        from: this.options.from,
        to: JSON.parse(message.to_addresses) as string[],
        subject: message.subject,
        text: message.text_body,
        html: message.html_body,
        date: new Date(message.created_at),
      });
    } catch (error) {
      return this.failed(message, error);
    }

    await store.markSent(this.db.kysely, message.id, this.clock.now().toISOString());
    return 'sent';
  }

  private async failed(message: store.OutboxRow, error: unknown): Promise<'retrying' | 'dead'> {
    const dead = message.attempts >= this.maxAttempts;
    const now = this.clock.now().getTime();
    const reason = describeError(error);
    await store.markFailed(this.db.kysely, message.id, {
      dead,
      nextAttemptAt: new Date(now + (dead ? 0 : backoffMs(message.attempts))).toISOString(),
      error: reason,
    });

    // The log names the message, never its addresses or body.
    const fields = { outboxMessageId: message.id, attempts: message.attempts, error: reason };
    if (dead) this.options.log?.error(fields, 'email given up after its last attempt');
    else this.options.log?.warn(fields, 'email delivery failed; will retry');
    return dead ? 'dead' : 'retrying';
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let wait: number;
      try {
        await this.deliverDue();
        const due = await store.nextDueAt(this.db.kysely);
        wait = due === null ? IDLE_MS : Date.parse(due) - this.clock.now().getTime();
      } catch (error) {
        this.options.log?.error({ err: error }, 'email delivery pass failed');
        wait = AFTER_ERROR_MS;
      }
      await this.sleep(Math.max(0, Math.min(wait, IDLE_MS)));
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped || ms === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.interrupt = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.interrupt = done;
    });
  }
}

/**
 * What went wrong, for the outbox row and the log: the SMTP reply or the error's message, cut
 * short. The SMTP URL (and so its password) never appears in nodemailer's errors, and a URL-like
 * text is blanked here all the same.
 */
function describeError(error: unknown): string {
  const fields =
    error instanceof Error ? (error as Error & { response?: unknown; code?: unknown }) : null;
  const text =
    typeof fields?.response === 'string'
      ? fields.response
      : error instanceof Error
        ? error.message
        : String(error);
  const code = typeof fields?.code === 'string' ? `${fields.code}: ` : '';
  return `${code}${text}`.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]').slice(0, ERROR_LIMIT);
}
