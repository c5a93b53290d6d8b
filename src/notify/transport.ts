import fs from 'node:fs/promises';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Config } from '../config.js';

/** One email as the outbox hands it over; the same on every attempt. */
export interface OutgoingMail {
  id: string;
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** When the email was written, which its `Date` header keeps across attempts. */
  date: Date;
}

/** Where emails go: an SMTP server, or files. `send` throws when an attempt fails. */
export interface MailTransport {
  /** For logs; never holds credentials. */
  readonly description: string;
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

// Bounded, so that a server that stops answering cannot hold an attempt past its lease.
const SMTP_TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 };

/** Longer than any one attempt can take with the timeouts above. */
export const ATTEMPT_LEASE_MS = 5 * 60_000;

/**
 * The transport the configuration asks for: SMTP at `ELEVATE_SMTP_URL` (options such as
 * `?ignoreTLS=true` may follow in its query), or else `.eml` files in `<data dir>/outbox/`.
 */
export function createMailTransport(config: Pick<Config, 'smtpUrl' | 'dataDir'>): MailTransport {
  return config.smtpUrl
    ? smtpTransport(config.smtpUrl)
    : fileTransport(path.join(config.dataDir, 'outbox'));
}

export function smtpTransport(url: string): MailTransport {
  const { hostname, port, protocol } = new URL(url);
  const transporter = lazily(async () => {
    const [{ default: nodemailer }, { parseConnectionUrl }] = await Promise.all([
      import('nodemailer'),
      import('nodemailer/lib/shared/index.js'),
    ]);
    return nodemailer.createTransport({ ...SMTP_TIMEOUTS, ...parseConnectionUrl(url) });
  });
  return {
    description: `smtp ${hostname || 'localhost'}:${port || (protocol === 'smtps:' ? 465 : 587)}`,
    async send(mail) {
      await (await transporter.get()).sendMail(message(mail));
    },
    close() {
      transporter.current?.close();
    },
  };
}

/** Writes each email as `<id>.eml`, a complete RFC 5322 message any mail client opens. */
export function fileTransport(dir: string): MailTransport {
  const composer = lazily(async () => {
    const { default: nodemailer } = await import('nodemailer');
    return nodemailer.createTransport({ streamTransport: true, buffer: true });
  });
  return {
    description: `files in ${dir}`,
    async send(mail) {
      const info = await (await composer.get()).sendMail(message(mail));
      await fs.mkdir(dir, { recursive: true });

      // Written aside and renamed, so that a reader never finds half a message.
      const file = path.join(dir, `${mail.id}.eml`);
      const partial = `${file}.partial`;
      await fs.writeFile(partial, info.message as Buffer);
      await fs.rename(partial, file);
    },
    close() {
      composer.current?.close();
    },
  };
}

/**
 * nodemailer, which takes some 40 ms and 3 MiB to load, is loaded with the first email rather
 * than at start.
 */
function lazily(create: () => Promise<Transporter>) {
  let pending: Promise<Transporter> | undefined;
  const lazy = {
    current: undefined as Transporter | undefined,
    get(): Promise<Transporter> {
      pending ??= create().then((created) => (lazy.current = created));
      return pending;
    },
  };
  return lazy;
}

function message(mail: OutgoingMail) {
  return {
    messageId: mail.messageId,
    date: mail.date,
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
  };
}
