import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { App } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { RoleIds } from '../directory/roles.js';
import type { CallerActor } from '../directory/service.js';
import { findUser, type UserRow } from '../directory/store.js';
import { policyIdFor } from '../pim/policies/ids.js';
import { RULE_TYPES } from '../pim/policies/model.js';
import type { RequestBody } from '../pim/schema.js';
import { newId } from '../shared/ids.js';

/** The demo's own database, recreated on every `elevate serve --demo`. */
export const DEMO_DATABASE_URL = 'sqlite:./data/demo.db';

export interface DemoUser {
  userPrincipalName: string;
  password: string;
  description: string;
}

export interface DemoOrganisation {
  users: DemoUser[];
  groups: Record<'office' | 'partners' | 'sharePoint' | 'security', string>;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const OFFICE_ROLES = [
  RoleIds.exchangeAdministrator,
  RoleIds.officeAppsAdministrator,
  RoleIds.teamsAdministrator,
  RoleIds.searchAdministrator,
];

/**
 * The configuration of a demo run: the environment's, on the demo's own SQLite file unless
 * ELEVATE_DATABASE_URL names another database, which must then be empty. The demo file is
 * deleted first, so that every run starts from the same example.
 */
export function demoConfig(env: NodeJS.ProcessEnv): Config {
  const databaseUrl = env.ELEVATE_DATABASE_URL || DEMO_DATABASE_URL;
  if (databaseUrl === DEMO_DATABASE_URL) {
    const file = DEMO_DATABASE_URL.slice('sqlite:'.length);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
  }
  return loadConfig({
    ...env,
    ELEVATE_DATABASE_URL: databaseUrl,
    ELEVATE_ADMIN_PASSWORD: env.ELEVATE_ADMIN_PASSWORD || newPassword(),
  });
}

function newPassword(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Fills an empty directory with a small organisation, through the same services the API uses,
 * so that every page of the portal has something to show:
 * - "Tier 3 Office Admins" holds the Exchange, Office Apps, Teams and Search Administrator roles
 *   for employees, without approval; "Tier 3 Office Admins (Partners)" holds the same roles for
 *   partners, with a ticket and carol's approval;
 * - alex (an engineer) is eligible for both employee groups and for SharePoint, which needs
 *   multi-factor authentication; his Office activation ends within the hour, and his Security
 *   Operations eligibility within two weeks, so Extend shows;
 * - pat (a partner guest) has asked to activate the partners' group, which waits for carol;
 * - carol (the approver) owns Security Operations, so she manages it in the portal.
 */
export async function seedDemo(app: App, config: Config): Promise<DemoOrganisation> {
  const { directory, policies, requests } = app.services;
  const domain = config.domain;
  const admin = await findUser(app.db.kysely, `admin@${domain}`);
  if (!admin) throw new Error('The demo needs the bootstrap administrator.');
  const adminActor = actorFor(admin, true);

  const existing = await app.db.kysely
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  if (Number(existing.count) > 1) {
    throw new Error('The demo needs an empty database; unset ELEVATE_DATABASE_URL to use its own.');
  }

  const people = [
    { name: 'alex', displayName: 'Alex Engineer', userType: 'Member', about: 'engineer' },
    { name: 'carol', displayName: 'Carol Approver', userType: 'Member', about: 'approver' },
    { name: 'pat', displayName: 'Pat Partner', userType: 'Guest', about: 'partner (guest)' },
  ] as const;
  const users: DemoUser[] = [
    {
      userPrincipalName: admin.user_principal_name,
      password: config.adminPassword ?? '(as set by ELEVATE_ADMIN_PASSWORD)',
      description: 'Global Administrator',
    },
  ];
  const rows: Record<string, UserRow> = {};
  for (const person of people) {
    const password = newPassword();
    rows[person.name] = await directory.createUser(adminActor, {
      displayName: person.displayName,
      userPrincipalName: `${person.name}@${domain}`,
      mail: `${person.name}@${domain}`,
      userType: person.userType,
      accountEnabled: true,
      passwordProfile: { password },
    });
    users.push({
      userPrincipalName: `${person.name}@${domain}`,
      password,
      description: person.about,
    });
  }
  const alex = rows.alex!;
  const carol = rows.carol!;
  const pat = rows.pat!;

  const group = async (displayName: string, description: string, roles: string[]) => {
    const created = await directory.createGroup(adminActor, {
      displayName,
      mailNickname: displayName.replace(/[^A-Za-z0-9]/g, ''),
      description,
      securityEnabled: true,
      mailEnabled: false,
      isAssignableToRole: true,
    });
    for (const roleDefinitionId of roles) {
      await directory.createRoleAssignment(adminActor, {
        roleDefinitionId,
        principalId: created.id,
        directoryScopeId: '/',
      });
    }
    return created.id;
  };
  const office = await group(
    'Tier 3 Office Admins',
    'Office workloads for employees: activation without approval.',
    OFFICE_ROLES,
  );
  const partners = await group(
    'Tier 3 Office Admins (Partners)',
    "Office workloads for partners: a ticket and Carol's approval.",
    OFFICE_ROLES,
  );
  const sharePoint = await group(
    'SharePoint Admins',
    'SharePoint administration: multi-factor authentication on activation.',
    [RoleIds.sharePointAdministrator],
  );
  const security = await group('Security Operations', 'Security administration, owned by Carol.', [
    RoleIds.securityAdministrator,
    RoleIds.globalReader,
  ]);

  const rule = (groupId: string, body: Record<string, unknown> & { id: string }) =>
    policies.updateRule(adminActor, policyIdFor(groupId, 'member'), body.id, body);
  await rule(partners, {
    '@odata.type': RULE_TYPES.Enablement,
    id: 'Enablement_EndUser_Assignment',
    enabledRules: ['Justification', 'Ticketing'],
  });
  await rule(partners, {
    '@odata.type': RULE_TYPES.Expiration,
    id: 'Expiration_EndUser_Assignment',
    isExpirationRequired: true,
    maximumDuration: 'PT4H',
  });
  await rule(partners, {
    '@odata.type': RULE_TYPES.Approval,
    id: 'Approval_EndUser_Assignment',
    setting: {
      isApprovalRequired: true,
      approvalMode: 'SingleStage',
      approvalStages: [
        {
          approvalStageTimeOutInDays: 1,
          isApproverJustificationRequired: false,
          primaryApprovers: [{ '@odata.type': '#microsoft.graph.singleUser', userId: carol.id }],
        },
      ],
    },
  });
  await rule(sharePoint, {
    '@odata.type': RULE_TYPES.Enablement,
    id: 'Enablement_EndUser_Assignment',
    enabledRules: ['MultiFactorAuthentication', 'Justification'],
  });
  await rule(sharePoint, {
    '@odata.type': RULE_TYPES.Expiration,
    id: 'Expiration_EndUser_Assignment',
    isExpirationRequired: true,
    maximumDuration: 'PT2H',
  });

  const now = app.clock.now().getTime();
  const until = (ms: number) => new Date(now + ms).toISOString();
  const assign = (
    kind: 'eligibility' | 'assignment',
    principal: UserRow,
    groupId: string,
    end: string,
    accessId: 'member' | 'owner' = 'member',
  ) =>
    requests.submit(adminActor, kind, {
      action: 'adminAssign',
      principalId: principal.id,
      groupId,
      accessId,
      justification: 'Demo organisation',
      scheduleInfo: { expiration: { type: 'afterDateTime', endDateTime: end } },
    });
  await assign('eligibility', alex, office, until(180 * DAY_MS));
  await assign('eligibility', carol, office, until(180 * DAY_MS));
  await assign('eligibility', alex, sharePoint, until(90 * DAY_MS));
  await assign('eligibility', alex, security, until(10 * DAY_MS));
  await assign('eligibility', pat, partners, until(90 * DAY_MS));
  await assign('assignment', carol, security, until(180 * DAY_MS), 'owner');

  const activation = (
    principal: UserRow,
    groupId: string,
    minutes: number,
    extra: Partial<RequestBody>,
  ) =>
    requests.submit(actorFor(principal, false), 'assignment', {
      action: 'selfActivate',
      principalId: principal.id,
      groupId,
      accessId: 'member',
      scheduleInfo: { expiration: { type: 'afterDuration', duration: `PT${minutes}M` } },
      ...extra,
    });
  await activation(alex, office, 45, { justification: 'Mailbox migration for the finance team' });
  await activation(pat, partners, 120, {
    justification: 'Teams policy rollout for the Contoso project',
    ticketInfo: { ticketNumber: 'CHG-1042', ticketSystem: 'ServiceNow' },
  });

  return { users, groups: { office, partners, sharePoint, security } };
}

/** The sign-in details of the demo's users, to print once at start. */
export function describeDemo(demo: DemoOrganisation, publicUrl: string): string {
  const width = Math.max(...demo.users.map((u) => u.userPrincipalName.length));
  const lines = demo.users.map(
    (u) => `  ${u.userPrincipalName.padEnd(width)}  ${u.password}  ${u.description}`,
  );
  return (
    `\nElevate demo: an example organisation on a fresh database.\n` +
    `Open ${publicUrl}/ and sign in as one of these users (passwords are new on every run):\n\n` +
    `${lines.join('\n')}\n\n`
  );
}

function actorFor(user: UserRow, mfa: boolean): CallerActor {
  return {
    caller: {
      userId: user.id,
      userPrincipalName: user.user_principal_name,
      displayName: user.display_name,
      amr: mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'],
      via: 'token',
      ip: '127.0.0.1',
    },
    correlationId: newId(),
  };
}
