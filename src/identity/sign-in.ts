import { sql, type Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/database.js';
import type { Database, UserTable } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { verifyPassword } from './passwords.js';
import { matchTotp } from './totp.js';

/** Failed attempts allowed per key within the window before further attempts are refused. */
const LIMITS = { account: 5, address: 20 };
const WINDOW_MS = 15 * 60 * 1000;

export type SignInResult =
  { ok: true; user: UserTable; amr: string[] } | { ok: false; reason: 'invalid' | 'throttled' };

export interface SignInAttempt {
  username: string;
  password: string;
  otp?: string | undefined;
  ip: string;
  correlationId: string;
}

/**
 * Checks a password and, when given, a TOTP code. Failed attempts are counted per account and
 * per address; past the limit, attempts are refused without checking the password at all, so that
 * guessing gets no answers. Every failure is audited.
 */
export class SignInService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  async signIn(attempt: SignInAttempt): Promise<SignInResult> {
    const now = this.clock.now();
    const upn = attempt.username.trim().toLowerCase();
    const keys = { account: `account:${upn}`, address: `address:${attempt.ip}` };

    if (await this.isThrottled(keys, now)) {
      await this.fail(attempt, upn, null, 'Too many failed attempts', keys, now);
      return { ok: false, reason: 'throttled' };
    }

    const user = await this.db.kysely
      .selectFrom('users')
      .selectAll()
      .where('user_principal_name', '=', upn)
      .executeTakeFirst();
    const passwordOk = await verifyPassword(user?.password_hash ?? null, attempt.password);
    if (!user || !passwordOk || user.account_enabled !== 1) {
      await this.fail(attempt, upn, user ?? null, 'Invalid username or password', keys, now);
      return { ok: false, reason: 'invalid' };
    }

    const amr = ['pwd'];
    if (attempt.otp !== undefined && attempt.otp !== '') {
      if (!(await this.acceptOtp(user.id, attempt.otp, now))) {
        await this.fail(attempt, upn, user, 'Invalid or reused one-time code', keys, now);
        return { ok: false, reason: 'invalid' };
      }
      amr.push('otp', 'mfa');
    }

    // Success forgives the account's failures but not the address's: one valid account must not
    // let an attacker reset the counter of an address that is guessing others' passwords.
    await this.db.kysely.deleteFrom('sign_in_throttle').where('key', '=', keys.account).execute();
    return { ok: true, user, amr };
  }

  /** Accepts a code of one of the user's active TOTP methods, once only. */
  private async acceptOtp(userId: string, code: string, now: Date): Promise<boolean> {
    const methods = await this.db.kysely
      .selectFrom('totp_methods')
      .select(['id', 'secret', 'last_used_step'])
      .where('user_id', '=', userId)
      .where('status', '=', 'active')
      .execute();

    for (const method of methods) {
      const step = matchTotp(method.secret, code, now);
      if (step === null) continue;

      // The conditional update makes a replayed code lose even when two sign-ins race.
      const claimed = await this.db.kysely
        .updateTable('totp_methods')
        .set({ last_used_step: step })
        .where('id', '=', method.id)
        .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) return true;
    }
    return false;
  }

  private async isThrottled(keys: { account: string; address: string }, now: Date) {
    const rows = await this.db.kysely
      .selectFrom('sign_in_throttle')
      .selectAll()
      .where('key', 'in', [keys.account, keys.address])
      .execute();
    const windowStart = new Date(now.getTime() - WINDOW_MS).toISOString();

    return rows.some((row) => {
      if (row.window_started_at <= windowStart) return false;
      const limit = row.key === keys.account ? LIMITS.account : LIMITS.address;
      return row.failures >= limit;
    });
  }

  private async fail(
    attempt: SignInAttempt,
    upn: string,
    user: UserTable | null,
    reason: string,
    keys: { account: string; address: string },
    now: Date,
  ): Promise<void> {
    const windowStart = new Date(now.getTime() - WINDOW_MS).toISOString();

    await this.db.kysely.transaction().execute(async (trx) => {
      for (const key of [keys.account, keys.address]) {
        await countFailure(trx, key, now.toISOString(), windowStart);
      }
      await this.audit.record(
        trx,
        { caller: null, correlationId: attempt.correlationId },
        {
          category: 'UserManagement',
          service: 'Authentication',
          activity: 'Sign-in failed',
          operationType: 'Other',
          result: 'failure',
          resultReason: reason,
          targets: [
            {
              id: user?.id ?? newId(),
              type: 'User',
              displayName: user?.display_name ?? null,
              userPrincipalName: upn.slice(0, 256),
            },
          ],
          details: { ipAddress: attempt.ip },
        },
      );
    });
  }
}

/** Counts one failure for the key, starting a new window when the last one has passed. */
async function countFailure(db: Kysely<Database>, key: string, now: string, windowStart: string) {
  const expired = sql<boolean>`sign_in_throttle.window_started_at <= ${windowStart}`;
  const kept = sql`sign_in_throttle.window_started_at`;
  await db
    .insertInto('sign_in_throttle')
    .values({ key, failures: 1, window_started_at: now })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql`case when ${expired} then 1 else sign_in_throttle.failures + 1 end`,
        window_started_at: sql`case when ${expired} then ${now} else ${kept} end`,
      }),
    )
    .execute();
}
