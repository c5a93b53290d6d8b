import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { HOUR, SECOND } from '../support/clock.js';
import {
  describeEachDatabase,
  PUBLIC_URL,
  type Json,
  type TestElevate,
} from '../support/elevate.js';
import { activate, makeEligible } from '../pim/support.js';
import { deliver, MailCatcher, OUTBOX } from './support.js';

const mail = await MailCatcher.start();
after(() => mail.close());

/** Another Elevate on the same database, as after a restart, with its own configuration. */
async function restart(elevate: TestElevate, env: Record<string, string>, dataDir?: string) {
  const config = loadConfig({
    ELEVATE_DATABASE_URL: elevate.database.url,
    ELEVATE_PUBLIC_URL: PUBLIC_URL,
    ...env,
  });
  return buildApp(dataDir ? { ...config, dataDir } : config, {
    clock: elevate.clock,
    db: elevate.database.db,
  });
}

async function outboxRows(elevate: TestElevate) {
  return elevate.app.db.kysely.selectFrom('outbox_messages').selectAll().execute();
}

async function pendingIds(elevate: TestElevate): Promise<string[]> {
  const rows = await outboxRows(elevate);
  return rows.filter((row) => row.status === 'pending').map((row) => row.id);
}

/** A group and an eligible user; the emails about them are delivered and forgotten. */
async function setUp(elevate: TestElevate) {
  const group = await elevate.createGroup();
  const user = await elevate.createUser();
  await makeEligible(elevate, user, group.id);
  await deliver(elevate);
  mail.reset();
  return { group, user };
}

describeEachDatabase(
  'email delivery',
  (elevate) => {
    beforeEach(() => mail.reset());

    it('escapes what users typed in HTML and lets no name add a header', async () => {
      const group = await elevate().createGroup({ name: 'Ops <b>core</b>' });
      const created = await elevate().request('POST', '/v1.0/users', {
        body: {
          displayName: 'Mallory\r\nBcc: evil@attacker.example\r\nX-Injected: yes\u0007\u0085',
          userPrincipalName: 'mallory@elevate.local',
          userType: 'Member',
          accountEnabled: true,
        },
      });
      assert.equal(created.status, 201);
      const mallory = { id: created.body.id as string, upn: 'mallory@elevate.local' };

      await makeEligible(elevate(), mallory, group.id, {
        justification: '<script>alert("x")</script> & "quotes"\r\nBcc: evil@attacker.example',
      });
      await deliver(elevate());

      const [alert] = mail.inbox('admin@elevate.local');
      assert.ok(alert);
      assert.equal(mail.accepted.length, 2);
      for (const received of mail.accepted) {
        assert.ok(!received.recipients.includes('evil@attacker.example'));
        const headers = received.raw.slice(0, received.raw.indexOf('\r\n\r\n'));
        assert.doesNotMatch(headers, /^bcc:/im);
        assert.doesNotMatch(headers, /^x-injected:/im);
        assert.doesNotMatch(received.html, /<script>|<b>core<\/b>/);
      }
      assert.equal(
        alert.subject,
        'PIM: Mallory Bcc: evil@attacker.example X-Injected: yes made eligible for Member of ' +
          'Ops <b>core</b>',
      );
      assert.ok(
        alert.html.includes(
          '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;',
        ),
      );
      assert.ok(alert.html.includes('Ops &lt;b&gt;core&lt;/b&gt;'));
      assert.ok(alert.text.includes('<script>alert("x")</script>'), 'plain text stays as typed');

      const stored = await elevate().request('GET', OUTBOX);
      for (const message of stored.body.value as Json[]) {
        assert.doesNotMatch(message.subject, /\p{Cc}/u, 'subjects are stored free of controls');
      }
    });

    it('keeps the Message-ID across attempts and backs off while the server refuses', async () => {
      const { group, user } = await setUp(elevate());
      await activate(elevate(), user, group.id);
      mail.rejectWith = 451;

      const first = await deliver(elevate());
      assert.deepEqual(first, { sent: 0, retrying: 2, dead: 0 });
      const refused = mail.received.map((m) => m.messageId).sort();
      assert.equal(refused.length, 2);
      assert.ok(refused.every((id) => /^<[0-9a-f-]{36}@elevate\.local>$/.test(id)));

      const listed = await elevate().request('GET', `${OUTBOX}?$filter=status eq 'pending'`);
      assert.equal(listed.status, 200);
      const now = elevate().clock.now().getTime();
      for (const message of listed.body.value as Json[]) {
        assert.equal(message.attempts, 1);
        assert.match(message.lastError, /451/);
        assert.equal(message.nextAttemptDateTime, new Date(now + 30 * SECOND).toISOString());
      }

      // Still refusing: the second attempt waits 30 s, the third a minute.
      elevate().clock.advance(30 * SECOND);
      assert.equal((await deliver(elevate())).retrying, 2);
      elevate().clock.advance(59 * SECOND);
      assert.deepEqual(await deliver(elevate()), { sent: 0, retrying: 0, dead: 0 });

      mail.rejectWith = null;
      elevate().clock.advance(1 * SECOND);
      assert.deepEqual(await deliver(elevate()), { sent: 2, retrying: 0, dead: 0 });
      assert.deepEqual(mail.accepted.map((m) => m.messageId).sort(), refused);
      assert.equal(mail.received.length, 6);

      elevate().clock.advance(HOUR);
      assert.deepEqual(await deliver(elevate()), { sent: 0, retrying: 0, dead: 0 });
      assert.deepEqual(await pendingIds(elevate()), []);
    });

    it('queues while the mail server is down and delivers everything once it is back', async () => {
      const down = await MailCatcher.start();
      const port = down.port;
      await down.close();
      const app = await restart(elevate(), { ELEVATE_SMTP_URL: `smtp://127.0.0.1:${port}` });
      try {
        const { group, user } = await setUp(elevate());
        await activate(elevate(), user, group.id);
        const queued = await pendingIds(elevate());
        assert.equal(queued.length, 2);

        // Approvals and activations still commit while email cannot go out.
        assert.equal((await app.outbox.deliverDue()).retrying, 2);
        const rows = await outboxRows(elevate());
        assert.match(rows.find((r) => r.id === queued[0])?.last_error ?? '', /ECONNREFUSED/);

        const back = await MailCatcher.start(port);
        try {
          elevate().clock.advance(30 * SECOND);
          assert.equal((await app.outbox.deliverDue()).sent, 2);
          assert.equal(back.accepted.length, 2);
          assert.equal(new Set(back.accepted.map((m) => m.messageId)).size, 2);
          elevate().clock.advance(HOUR);
          assert.equal((await app.outbox.deliverDue()).sent, 0);
        } finally {
          await back.close();
        }
      } finally {
        await app.close();
      }
    });

    it('delivers after a restart what the stopped instance left pending', async () => {
      const { group, user } = await setUp(elevate());
      await activate(elevate(), user, group.id);
      const queued = await pendingIds(elevate());
      assert.equal(queued.length, 2);

      const restarted = await restart(elevate(), { ELEVATE_SMTP_URL: mail.url });
      try {
        assert.equal((await restarted.outbox.deliverDue()).sent, 2);
      } finally {
        await restarted.close();
      }
      assert.equal(mail.accepted.length, 2);
      assert.deepEqual(await pendingIds(elevate()), []);
    });

    it('resends under the same Message-ID what an instance stalled on past its lease', async () => {
      const { group, user } = await setUp(elevate());
      await activate(elevate(), user, group.id);
      let release = () => {};
      mail.hold = new Promise((resolve) => (release = resolve));

      const stalled = deliver(elevate());
      while (mail.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      mail.hold = null;

      const other: App = await restart(elevate(), { ELEVATE_SMTP_URL: mail.url });
      try {
        assert.equal((await other.outbox.deliverDue()).sent, 0, 'the messages are leased');
        elevate().clock.advance(5 * 60 * SECOND);
        assert.equal((await other.outbox.deliverDue()).sent, 2);
      } finally {
        await other.close();
      }
      release();
      await stalled;

      const ids = mail.accepted.map((m) => m.messageId);
      assert.equal(ids.length, 4, 'each message once more, at most');
      assert.equal(new Set(ids).size, 2, 'a duplicate carries the same Message-ID');
      assert.deepEqual(await pendingIds(elevate()), []);
    });

    it('gives up after ten attempts, shows it to admins, and sends it when retried', async () => {
      const { group, user } = await setUp(elevate());
      const reader = await elevate().createUser();
      await activate(elevate(), user, group.id);
      mail.rejectWith = 550;

      let attempts = 0;
      for (; attempts < 12; attempts++) {
        const report = await deliver(elevate());
        elevate().clock.advance(HOUR);
        if (report.dead > 0) break;
      }
      assert.equal(attempts, 9, 'the tenth attempt is the last');
      assert.deepEqual(await deliver(elevate()), { sent: 0, retrying: 0, dead: 0 });

      const dead = await elevate().request('GET', `${OUTBOX}?$filter=status eq 'dead'&$count=true`);
      assert.equal(dead.status, 200);
      assert.equal(dead.body['@odata.count'], 2);
      const message = dead.body.value[0];
      assert.equal(message.attempts, 10);
      assert.match(message.lastError, /550/);
      assert.equal(message.eventType, 'requestCreated');
      assert.ok(Array.isArray(message.toRecipients) && message.toRecipients.length > 0);
      assert.equal(typeof message.subject, 'string');
      assert.equal(message.text, undefined, 'bodies are not shown');

      const metrics = await elevate().app.server.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^elevate_outbox_messages\{status="dead"\} 2$/m);

      assert.equal((await elevate().request('GET', OUTBOX, { as: reader })).status, 403);
      const refused = await elevate().request('POST', `${OUTBOX}/${message.id}/retry`, {
        as: reader,
      });
      assert.equal(refused.status, 403);

      mail.rejectWith = null;
      const retried = await elevate().request('POST', `${OUTBOX}/${message.id}/retry`);
      assert.equal(retried.status, 200);
      assert.equal(retried.body.status, 'pending');
      assert.equal(retried.body.attempts, 0);
      assert.deepEqual(await deliver(elevate()), { sent: 1, retrying: 0, dead: 0 });
      assert.equal(mail.accepted[0]?.messageId, message.messageId);

      const again = await elevate().request('POST', `${OUTBOX}/${message.id}/retry`);
      assert.equal(again.status, 409);
      const missing = await elevate().request(
        'POST',
        `${OUTBOX}/00000000-0000-4000-8000-000000000000/retry`,
      );
      assert.equal(missing.status, 404);

      const audit = await elevate().request(
        'GET',
        `/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Retry notification email'`,
      );
      assert.equal(audit.body.value.length, 1);
      assert.equal(audit.body.value[0].initiatedBy.user.id, elevate().admin.id);
    });

    it('writes .eml files to the data folder when no mail server is configured', async () => {
      const { group, user } = await setUp(elevate());
      await activate(elevate(), user, group.id);
      const queued = await pendingIds(elevate());

      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-eml-'));
      const app = await restart(elevate(), {}, dataDir);
      try {
        assert.equal((await app.outbox.deliverDue()).sent, 2);
      } finally {
        await app.close();
      }

      const files = fs.readdirSync(path.join(dataDir, 'outbox')).sort();
      assert.deepEqual(files, queued.map((id) => `${id}.eml`).sort());
      const parsed = await simpleParser(
        fs.readFileSync(path.join(dataDir, 'outbox', `${queued[0]}.eml`)),
      );
      assert.equal(parsed.messageId, `<${queued[0]}@elevate.local>`);
      assert.match(parsed.subject ?? '', /^PIM: /);
      assert.equal(parsed.from?.text, 'elevate@elevate.local');
      assert.equal(mail.accepted.length, 0);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
  },
  { ELEVATE_SMTP_URL: mail.url },
);
