import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { totpCode } from '../../src/identity/totp.js';
import { policyIdFor } from '../../src/pim/policies/ids.js';
import { DAY, MINUTE } from '../support/clock.js';
import { databaseTargets } from '../support/databases.js';
import {
  SCREENSHOTS,
  buildPortal,
  launchBrowser,
  startPortal,
  type RunningPortal,
} from './support.js';

// The portal in Debian's Chromium against a real Elevate listening on loopback, on the demo
// organisation. The server's clock is a FakeClock set months away from the browser's, so every
// time the portal shows must come from the server.

let browser: Browser;
let portalDir: string;

before(async () => {
  portalDir = await buildPortal();
  browser = await launchBrowser();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (portalDir) fs.rmSync(portalDir, { recursive: true, force: true });
});

for (const target of databaseTargets) {
  describe(`the portal [${target.name}]`, () => {
    let portal: RunningPortal;

    before(async () => {
      portal = await startPortal(target, portalDir);
    });

    after(async () => {
      await portal?.close();
    });

    async function signIn(user: string, otp?: string): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${portal.url}/#/my-roles`);
      await page.getByLabel('User name').fill(`${user}@elevate.local`);
      await page.getByLabel('Password').fill(portal.password(user));
      if (otp) {
        await page.getByLabel('I have an authenticator app').check();
        await page.getByLabel('Code from your authenticator').fill(otp);
      }
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'My roles' }).waitFor();
      return page;
    }

    async function shot(page: Page, name: string) {
      await page.screenshot({ path: `${SCREENSHOTS}/${name}-${target.name}.png`, fullPage: true });
    }

    it('refuses a wrong password in words and keeps the browser free of tokens', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(portal.url);
      await page.getByLabel('User name').fill('alex@elevate.local');
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: 'The user name, password or code is wrong.' })
        .waitFor();
      await shot(page, 'sign-in');

      // From the keyboard alone: Enter in the password field submits the form.
      await page.getByLabel('Password').fill(portal.password('alex'));
      await page.getByLabel('Password').press('Enter');
      await page.locator('h1:focus', { hasText: 'My roles' }).waitFor();
      const stored = await page.evaluate(
        'JSON.stringify([localStorage.length, sessionStorage.length, document.cookie])',
      );
      assert.equal(stored, '[0,0,""]');
      const cookies = await context.cookies();
      assert.deepEqual(
        cookies.map((c) => [c.name, c.httpOnly, c.sameSite]),
        [['elevate_session', true, 'Strict']],
      );

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { level: 1, name: 'Sign in to Elevate' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Sign in to Elevate' }).waitFor();
      await context.close();
    });

    it("counts an activation's time left by the server's clock, then deactivates it", async () => {
      const page = await signIn('alex');
      // Alex may not read the group's role assignments, but its roles reach him while active.
      await page
        .getByRole('region', { name: 'Eligible' })
        .getByRole('row', { name: /Tier 3 Office Admins/ })
        .getByText(
          'Exchange Administrator, Office Apps Administrator, Search Administrator, ' +
            'Teams Administrator',
        )
        .waitFor();
      const active = page.getByRole('region', { name: 'Active' });
      // The seed activated Tier 3 Office Admins for 45 minutes at the server's time.
      await active.getByText(/4[45] min left/).waitFor();
      await shot(page, 'my-roles');

      await active.getByRole('button', { name: 'Deactivate Tier 3 Office Admins' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: 'Deactivated Tier 3 Office Admins.' })
        .waitFor();
      await active.getByText('Nothing is active now.').waitFor();
      await page.context().close();
    });

    it('enrols an authenticator, then activates two groups at once after a step-up', async () => {
      const page = await signIn('alex');
      await page.getByRole('link', { name: 'My account' }).click();
      await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const qr = page.getByRole('img', { name: /QR code/ });
      assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
      const secret = (await page.locator('code.secret').textContent()) ?? '';
      await shot(page, 'account');
      await page.getByLabel('Code shown by the app').fill(totpCode(secret, portal.clock.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('status').filter({ hasText: 'Your authenticator is set up.' }).waitFor();

      await page.getByRole('link', { name: 'My roles' }).click();
      const eligible = page.getByRole('region', { name: 'Eligible' });
      await eligible.getByRole('checkbox', { name: 'Select SharePoint Admins' }).check();
      await eligible.getByRole('checkbox', { name: 'Select Security Operations' }).check();
      const form = page.getByRole('form', { name: /^Activate / });
      await form.getByLabel('Duration in hours').fill('1.5');
      await form.getByLabel('Justification').fill('Quarterly access review');
      await form.getByRole('button', { name: 'Activate 2 groups' }).click();

      // SharePoint Admins needs MFA and this session has none: the portal asks first.
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.waitFor();
      portal.clock.advance(MINUTE);
      await dialog.getByLabel('Password').fill(portal.password('alex'));
      await dialog
        .getByLabel('Code from your authenticator')
        .fill(totpCode(secret, portal.clock.now()));
      await dialog.getByRole('button', { name: 'Confirm' }).click();

      const status = page.getByRole('status').filter({ hasText: 'Activated:' });
      await status.waitFor();
      assert.match((await status.textContent()) ?? '', /SharePoint Admins/);
      assert.match((await status.textContent()) ?? '', /Security Operations/);
      const active = page.getByRole('region', { name: 'Active' });
      await active.getByText('SharePoint Admins').waitFor();
      // Ninety minutes by the server's clock, less the seconds the browser has counted since.
      const left = await active.locator('.row').allTextContents();
      assert.equal(
        left.filter((row) => /1 h (29|30) min left/.test(row)).length,
        2,
        left.join(' | '),
      );
      await page.context().close();
    });

    it('lets the approver approve a request from her queue', async () => {
      const page = await signIn('carol');
      await page.getByRole('link', { name: 'Approvals' }).click();
      const card = page
        .getByRole('listitem')
        .filter({ hasText: 'Pat Partner asks for Tier 3 Office Admins (Partners)' });
      await card.getByText('CHG-1042 (ServiceNow)').waitFor();
      await shot(page, 'approvals');

      await card.getByLabel('Your justification').fill('Matches the change ticket');
      await card.getByRole('button', { name: 'Approve' }).click();
      await page
        .getByRole('status')
        .filter({
          hasText: 'Approved the request of Pat Partner for Tier 3 Office Admins (Partners).',
        })
        .waitFor();
      await page.getByText('Nothing is waiting for you.').waitFor();
      await page.context().close();

      const members = await portal.app.server.inject({
        method: 'GET',
        url: `/v1.0/groups/${portal.demo.groups.partners}/members`,
        headers: { authorization: `Bearer ${await adminToken()}` },
      });
      assert.deepEqual(
        (JSON.parse(members.body) as { value: { displayName: string }[] }).value.map(
          (u) => u.displayName,
        ),
        ['Pat Partner'],
      );
    });

    it('asks for an extension and cancels the request', async () => {
      const page = await signIn('alex');
      const eligible = page.getByRole('region', { name: 'Eligible' });
      // Security Operations ends in ten days, inside the extension window.
      await eligible.getByRole('button', { name: 'Extend Security Operations' }).click();
      const form = page.getByRole('form', { name: 'Extend Security Operations' });
      await form.getByLabel('Justification').fill('Still on the incident rota');
      await form.getByRole('button', { name: 'Ask to extend' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: 'Asked an administrator to extend Security Operations.' })
        .waitFor();

      const pending = page.getByRole('region', { name: 'Waiting for a decision' });
      await pending.getByText('Extension').waitFor();
      await pending.getByRole('button', { name: 'Cancel request for Security Operations' }).click();
      await page.getByRole('status').filter({ hasText: 'The request was canceled.' }).waitFor();
      await pending.getByText('No request is waiting.').waitFor();
      await page.context().close();
    });

    it("changes a group's member settings in one form, saving only the changed rules", async () => {
      const page = await signIn('admin');
      await page.getByRole('link', { name: 'Privileged access groups' }).click();
      await page.getByRole('link', { name: 'Tier 3 Office Admins (Partners)' }).click();
      await page
        .getByRole('heading', { level: 1, name: 'Tier 3 Office Admins (Partners)' })
        .waitFor();
      const eligibleList = page.getByRole('region', { name: 'Eligible assignments' });
      await eligibleList.getByText('Pat Partner').waitFor();

      const settings = page.getByRole('form', { name: 'member settings' });
      await settings.getByLabel('Longest activation, in hours').fill('3');
      await settings.getByLabel('Require multi-factor authentication', { exact: true }).check();
      await settings.getByLabel('Activation: to approvers: level').selectOption('Critical');
      await shot(page, 'group');
      await settings.getByRole('button', { name: 'Save settings' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved 3 rules.' }).waitFor();
      await page.context().close();

      const policyId = policyIdFor(portal.demo.groups.partners, 'member');
      const rules = await portal.app.server.inject({
        method: 'GET',
        url: `/v1.0/policies/roleManagementPolicies/${policyId}/rules`,
        headers: { authorization: `Bearer ${await adminToken()}` },
      });
      const byId = new Map(
        (JSON.parse(rules.body) as { value: { id: string }[] }).value.map((r) => [r.id, r]),
      );
      assert.equal(
        (byId.get('Expiration_EndUser_Assignment') as { maximumDuration?: string }).maximumDuration,
        'PT3H',
      );
      assert.deepEqual(
        (byId.get('Enablement_EndUser_Assignment') as { enabledRules?: string[] }).enabledRules,
        ['MultiFactorAuthentication', 'Justification', 'Ticketing'],
      );
      assert.equal(
        (byId.get('Notification_Approver_EndUser_Assignment') as { notificationLevel?: string })
          .notificationLevel,
        'Critical',
      );
    });

    it('adds an eligible assignment to a group, extends it and removes it', async () => {
      const page = await signIn('admin');
      await page.goto(`${portal.url}/#/groups/${portal.demo.groups.security}`);
      await page.getByRole('heading', { level: 1, name: 'Security Operations' }).waitFor();

      const add = page.getByRole('region', { name: 'Add an assignment' });
      await add.getByLabel('User').selectOption({ label: 'Carol Approver (carol@elevate.local)' });
      await add.getByLabel('Ends (empty: never)').fill('2026-07-01T09:00');
      await add.getByLabel('Justification').fill('Backup for the rota');
      await add.getByRole('button', { name: 'Add' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: 'Carol Approver is now eligible as member.' })
        .waitFor();

      const eligible = page.getByRole('region', { name: 'Eligible assignments' });
      await eligible.getByRole('button', { name: 'Change Carol Approver' }).click();
      const change = page.getByRole('form', { name: 'Change Carol Approver' });
      await change.getByLabel('Ends (empty: never)').fill('2026-08-01T09:00');
      await change.getByLabel('Justification').fill('The rota runs longer');
      await change.getByRole('button', { name: 'Save' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: 'Extended the member assignment of Carol Approver.' })
        .waitFor();

      await eligible.getByRole('button', { name: 'Remove Carol Approver' }).click();
      const remove = page.getByRole('form', { name: 'Remove Carol Approver' });
      await remove.getByLabel('Justification').fill('Rota ended');
      await remove.getByRole('button', { name: 'Remove' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: 'Removed the member assignment of Carol Approver.' })
        .waitFor();
      await eligible.getByText('Carol Approver').waitFor({ state: 'detached' });
      await page.context().close();
    });

    it('filters the audit log and exports it as CSV that no spreadsheet runs', async () => {
      const created = await portal.app.server.inject({
        method: 'POST',
        url: '/v1.0/users',
        headers: { authorization: `Bearer ${await adminToken()}` },
        payload: {
          displayName: '=HYPERLINK("http://example.com")',
          userPrincipalName: 'eve@elevate.local',
        },
      });
      assert.equal(created.statusCode, 201);

      const page = await signIn('admin');
      await page.getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
      const rows = page.locator('table.audit tbody tr');
      await rows.first().waitFor();

      await page.getByLabel('Initiated by (user name)').fill('pat@elevate.local');
      await page.getByRole('button', { name: 'Show events' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /events shown/ })
        .waitFor();
      const initiators = await rows.locator('td[data-label="By"]').allTextContents();
      assert.ok(initiators.length > 0);
      assert.ok(
        initiators.every((who) => who === 'pat@elevate.local'),
        initiators.join(),
      );
      await shot(page, 'audit');

      await page.getByLabel('Initiated by (user name)').fill('');
      await page.getByLabel('Category').selectOption('UserManagement');
      await page.getByRole('button', { name: 'Show events' }).click();
      await page
        .getByRole('cell', { name: /HYPERLINK/ })
        .first()
        .waitFor();
      const shown = await rows.count();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      const csv = fs.readFileSync((await download.path()) ?? '', 'utf8');
      const [header, ...lines] = csv.trim().split('\r\n');
      assert.equal(header, 'Date,Category,Activity,Result,Reason,Initiated by,Targets,Details');
      assert.equal(lines.length, shown);
      assert.ok(lines.every((line) => line.includes(',UserManagement,')));
      assert.match(csv, /,"'=HYPERLINK\(""http:\/\/example\.com""\)",/);
      await page.context().close();
    });

    it('fits a phone screen with no sideways scrolling and no policy violation', async () => {
      const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await page.goto(portal.url);
      await page.getByLabel('User name').fill('admin@elevate.local');
      await page.getByLabel('Password').fill(portal.password('admin'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      for (const route of [
        'my-roles',
        'approvals',
        'groups',
        `groups/${portal.demo.groups.office}`,
        'audit',
        'account',
      ]) {
        await page.goto(`${portal.url}/#/${route}`);
        await page.locator('h1:focus').waitFor();
        const loading = page.getByText('Loading…');
        while ((await loading.count()) > 0) await loading.first().waitFor({ state: 'detached' });
        const width = await page.evaluate('document.documentElement.scrollWidth');
        assert.ok(Number(width) <= 375, `${route} is ${String(width)} px wide`);
      }
      await shot(page, 'phone-account');
      assert.deepEqual(violations, []);
      await context.close();
    });

    // Last, because it moves the server's clock eleven days on.
    it('offers Renew once an eligibility has ended, and sends the request', async () => {
      portal.clock.advance(11 * DAY);
      const page = await signIn('alex');

      const ended = page.getByRole('region', { name: 'Recently ended' });
      await ended.getByText('Security Operations').waitFor();
      await ended.getByRole('button', { name: 'Renew Security Operations' }).click();
      const form = page.getByRole('form', { name: 'Renew Security Operations' });
      await form.getByLabel('Justification').fill('Back on the incident rota');
      await form.getByRole('button', { name: 'Ask to renew' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: 'Asked an administrator to renew Security Operations.' })
        .waitFor();
      await page
        .getByRole('region', { name: 'Waiting for a decision' })
        .getByText('Renewal')
        .waitFor();
      await page.context().close();
    });

    async function adminToken(): Promise<string> {
      const admin = portal.demo.users[0]!;
      const row = await portal.app.db.kysely
        .selectFrom('users')
        .select('id')
        .where('user_principal_name', '=', admin.userPrincipalName)
        .executeTakeFirstOrThrow();
      return portal.app.services.tokens.issue({
        oid: row.id,
        upn: admin.userPrincipalName,
        amr: ['pwd'],
      });
    }
  });
}
