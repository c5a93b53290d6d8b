import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Response, TestElevate, TestUser } from '../support/elevate.js';
import { BASE } from '../pim/support.js';

/** One message as the SMTP server received it, raw and parsed. */
export interface ReceivedMail {
  raw: string;
  /** RCPT TO addresses: who the message was delivered to. */
  recipients: string[];
  messageId: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A real SMTP server on 127.0.0.1, in the test process. It accepts every message, or answers
 * DATA with `rejectWith` (such as 451) while that is set; `hold` makes it wait before answering.
 */
export class MailCatcher {
  /** Messages accepted. */
  readonly accepted: ReceivedMail[] = [];
  /** Every message received, accepted or refused. */
  readonly received: ReceivedMail[] = [];
  rejectWith: number | null = null;
  hold: Promise<void> | null = null;

  private readonly server: SMTPServer;
  private listeningOn = 0;

  private constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      disableReverseLookup: true,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const recipients = session.envelope.rcptTo.map((r) => r.address);
          this.receive(Buffer.concat(chunks).toString('utf8'), recipients).then(
            (error) => callback(error),
            (error: unknown) => callback(error as Error),
          );
        });
      },
    });
  }

  /** Listens on `port`, or on a free port when none is given. */
  static async start(port = 0): Promise<MailCatcher> {
    const catcher = new MailCatcher();
    await new Promise<void>((resolve) => catcher.server.listen(port, '127.0.0.1', resolve));
    catcher.listeningOn = (catcher.server.server.address() as AddressInfo).port;
    return catcher;
  }

  get port(): number {
    return this.listeningOn;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Forgets what was received and accepts again. */
  reset(): void {
    this.accepted.length = 0;
    this.received.length = 0;
    this.rejectWith = null;
    this.hold = null;
  }

  /** The messages accepted for one address. */
  inbox(address: string): ReceivedMail[] {
    return this.accepted.filter((mail) => mail.recipients.includes(address.toLowerCase()));
  }

  /** The subjects accepted for one address, sorted. */
  subjects(address: string): string[] {
    return this.inbox(address)
      .map((mail) => mail.subject)
      .sort();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(resolve));
  }

  private async receive(raw: string, recipients: string[]): Promise<Error | null> {
    const parsed = await simpleParser(raw);
    const mail: ReceivedMail = {
      raw,
      recipients: recipients.map((r) => r.toLowerCase()),
      messageId: parsed.messageId ?? '',
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
    };
    this.received.push(mail);
    if (this.hold) await this.hold;

    if (this.rejectWith !== null) {
      return Object.assign(new Error('Try again later'), { responseCode: this.rejectWith });
    }
    this.accepted.push(mail);
    return null;
  }
}

/** Sends what is due now through the app's outbox, as the delivery loop would. */
export function deliver(elevate: TestElevate) {
  return elevate.app.outbox.deliverDue();
}

/** The user's address, as Elevate writes to it: its user principal name when it has no mail. */
export function addressOf(user: TestUser): string {
  return user.upn;
}

/** A notification rule body for `patchRule`. */
export function notificationRule(
  id: string,
  level: 'None' | 'Critical' | 'All',
  options: { defaults?: boolean; recipients?: string[] } = {},
) {
  const [, recipientType, caller, ruleLevel] = id.split('_');
  return {
    '@odata.type': '#microsoft.graph.unifiedRoleManagementPolicyNotificationRule',
    id,
    notificationType: 'Email',
    recipientType,
    notificationLevel: level,
    isDefaultRecipientsEnabled: options.defaults ?? true,
    notificationRecipients: options.recipients ?? [],
    target: {
      caller,
      operations: ['All'],
      level: ruleLevel,
      inheritableSettings: [],
      enforcedSettings: [],
    },
  };
}

/** Decides a stage of an approval through the API. */
export function decide(
  elevate: TestElevate,
  approver: TestUser,
  approvalId: string,
  stageId: string,
  reviewResult: 'Approve' | 'Deny',
  justification = 'checked',
): Promise<Response> {
  return elevate.request('PATCH', `${BASE}/assignmentApprovals/${approvalId}/stages/${stageId}`, {
    as: approver,
    body: { reviewResult, justification },
  });
}

export const OUTBOX = '/v1.0/admin/notifications/outbox';
