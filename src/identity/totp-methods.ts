import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/database.js';
import type { CallerActor } from '../directory/service.js';
import { badRequest, notFound } from '../http/errors.js';
import type { Clock } from '../shared/clock.js';
import { isGuid, newId } from '../shared/ids.js';
import { matchTotp, newTotpSecret, totpUri } from './totp.js';

/**
 * TOTP enrolment: a method starts `pending` and becomes `active` once the user proves, with a
 * code, that the authenticator holds the secret. Only active methods count at sign-in.
 */
export class TotpMethods {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** The caller's own methods, newest first; the secret never leaves the server again. */
  async list(actor: CallerActor) {
    const methods = await this.db.kysely
      .selectFrom('totp_methods')
      .select(['id', 'status', 'created_at'])
      .where('user_id', '=', actor.caller.userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'asc')
      .execute();
    return methods.map((m) => ({ id: m.id, status: m.status, createdDateTime: m.created_at }));
  }

  async enrol(actor: CallerActor) {
    const secret = newTotpSecret();
    const method = {
      id: newId(),
      user_id: actor.caller.userId,
      secret,
      status: 'pending' as const,
      created_at: this.clock.now().toISOString(),
      last_used_step: null,
    };

    await this.db.kysely.transaction().execute(async (trx) => {
      // An abandoned enrolment is replaced, so that pending secrets do not pile up.
      await trx
        .deleteFrom('totp_methods')
        .where('user_id', '=', actor.caller.userId)
        .where('status', '=', 'pending')
        .execute();
      await trx.insertInto('totp_methods').values(method).execute();
      await this.audit.record(trx, actor, securityInfoEvent(actor, 'started'));
    });

    return {
      id: method.id,
      secretKey: secret,
      otpauthUri: totpUri(secret, actor.caller.userPrincipalName),
      status: method.status,
    };
  }

  async verify(actor: CallerActor, id: string, code: string): Promise<void> {
    const method = isGuid(id)
      ? await this.db.kysely
          .selectFrom('totp_methods')
          .selectAll()
          .where('id', '=', id.toLowerCase())
          .where('user_id', '=', actor.caller.userId)
          .executeTakeFirst()
      : undefined;
    if (!method) throw notFound(`TOTP method '${id.slice(0, 64)}' does not exist.`);
    if (method.status !== 'pending') throw badRequest('This TOTP method is already verified.');

    const step = matchTotp(method.secret, code, this.clock.now());
    if (step === null) throw badRequest('The code is not valid for this authenticator.');

    await this.db.kysely.transaction().execute(async (trx) => {
      // Conditional on `pending`, so that two verifications racing activate the method once.
      const activated = await trx
        .updateTable('totp_methods')
        .set({ status: 'active', last_used_step: step })
        .where('id', '=', method.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(activated.numUpdatedRows) !== 1) {
        throw badRequest('This TOTP method is already verified.');
      }
      await this.audit.record(trx, actor, securityInfoEvent(actor, 'registered'));
    });
  }
}

/** Entra's audit activities for authenticator registration, with the user as the target. */
function securityInfoEvent(actor: CallerActor, step: 'started' | 'registered'): AuditEvent {
  return {
    category: 'UserManagement',
    service: 'Authentication Methods',
    activity:
      step === 'started'
        ? 'User started security info registration'
        : 'User registered security info',
    operationType: step === 'started' ? 'Other' : 'Add',
    result: 'success',
    targets: [
      {
        id: actor.caller.userId,
        type: 'User',
        displayName: actor.caller.displayName,
        userPrincipalName: actor.caller.userPrincipalName,
      },
    ],
    details: { method: 'TOTP' },
  };
}
