import type { Command } from 'commander';
import { odataPath, type ApiClient, type BatchResponse } from '../client.js';
import { clientCommand, examples, run } from '../command.js';
import { CliError, ExitCode, type RuleFailure } from '../errors.js';
import { printJson, table, when, type Output } from '../output.js';
import { parseCount, parseDate, parseDuration } from '../parse.js';
import {
  describeAction,
  expirationOf,
  PENDING,
  PIM,
  requestsPath,
  requestWindow,
  type AccessId,
  type GraphRequest,
  type GraphSchedule,
  type Kind,
} from '../pim.js';
import { toCliError } from '../refusals.js';
import { resolveGroup, resolveGroups, roleList, rolesOfGroups, type GroupRef } from '../resolve.js';
import { connect, type ClientOptions } from '../session.js';

interface ActivateOptions extends ClientOptions {
  for?: string;
  start?: string;
  reason?: string;
  ticket?: string;
  ticketSystem?: string;
  owner?: boolean;
}

interface ChangeOptions extends ClientOptions {
  eligible?: boolean;
  owner?: boolean;
  until?: string;
  for?: string;
  reason?: string;
}

interface RequestsOptions extends ClientOptions {
  top: number;
}

const MFA_HINT =
  'This needs multi-factor authentication: sign in again with your one-time code, ' +
  'elevate login --otp CODE, and run the command again.';

export function registerAccessCommands(program: Command): void {
  const roles = clientCommand(
    program,
    'roles',
    'List your eligible and active group assignments and the roles they bring',
  ).action(run(rolesAction));
  examples(roles, ['elevate roles', 'elevate roles --json']);

  const activate = clientCommand(
    program,
    'activate <group...>',
    'Activate your eligible membership (or ownership) of one or more groups',
  )
    .option(
      '--for <duration>',
      'how long, like 90m, 2h or PT2H (default: the policy maximum)',
      parseDuration,
    )
    .option('--reason <text>', 'the justification')
    .option('--ticket <number>', 'the ticket number, when the policy asks for one')
    .option('--ticket-system <name>', 'the system the ticket lives in')
    .option('--start <date>', 'start later, at this ISO 8601 date and time', parseDate)
    .option('--owner', 'activate ownership instead of membership')
    .action(run(activateAction));
  examples(activate, [
    'elevate activate "Tier 3 Admins" --for 2h --reason "Rotate certificates"',
    'elevate activate Exchange SharePoint --for 1h --reason "INC-42 outage" --ticket INC-42',
    'elevate activate Exchange --owner --for 30m --reason "Fix owners"',
  ]);
  activate.addHelpText(
    'after',
    '\nAll groups are asked for in one round trip; each gets its own outcome. A group whose ' +
      'policy\nrequires approval answers "pending approval" until an approver decides.',
  );

  const deactivate = clientCommand(program, 'deactivate <group>', 'End your activation now')
    .option('--owner', 'deactivate ownership instead of membership')
    .option('--reason <text>', 'why, for the audit log')
    .action(run(deactivateAction));
  examples(deactivate, ['elevate deactivate "Tier 3 Admins"']);

  for (const action of ['extend', 'renew'] as const) {
    const command = clientCommand(
      program,
      `${action} <group>`,
      action === 'extend'
        ? 'Ask to extend your assignment before it ends (an administrator decides)'
        : 'Ask to renew your assignment after it ended (an administrator decides)',
    )
      .option('--eligible', `${action} your eligibility rather than an active assignment`)
      .option('--owner', `${action} ownership instead of membership`)
      .option('--until <date>', 'the new end, an ISO 8601 date and time', parseDate)
      .option('--for <duration>', 'the new length from now, like 30d', parseDuration)
      .requiredOption('--reason <text>', 'the justification')
      .action(
        run((output, group: string, options: ChangeOptions) =>
          changeAction(output, action, group, options),
        ),
      );
    examples(command, [
      `elevate ${action} Exchange --eligible --for 90d --reason "Still on the project"`,
      `elevate ${action} Exchange --until 2026-12-31 --reason "Contract extended"`,
    ]);
  }

  const requests = clientCommand(
    program,
    'requests',
    'List the requests you made, pending ones first',
  )
    .option('--top <n>', 'show at most this many', parseCount(1, 200), 25)
    .action(run(requestsAction));
  examples(requests, ['elevate requests', 'elevate requests --json', 'elevate requests cancel ID']);

  const cancel = clientCommand(requests, 'cancel <id>', 'Cancel a pending request of yours').action(
    run(cancelAction),
  );
  examples(cancel, ['elevate requests cancel 4d1c3a52-5b0e-4f4c-9a77-02b6bd7a5a7e']);
}

// roles

interface RoleRow {
  group: GroupRef;
  accessId: AccessId;
  status: 'eligible' | 'active' | 'scheduled' | 'pendingApproval';
  assignmentType: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
  id: string;
}

async function rolesAction(output: Output, options: ClientOptions) {
  const { client } = connect(options);

  const expand = { $expand: 'group' };
  const [eligible, active, pending] = await client.batch([
    {
      id: 'eligible',
      method: 'GET',
      url: odataPath(`${PIM}/eligibilitySchedules/filterByCurrentUser(on='principal')`, expand),
    },
    {
      id: 'active',
      method: 'GET',
      url: odataPath(`${PIM}/assignmentSchedules/filterByCurrentUser(on='principal')`, expand),
    },
    {
      id: 'pending',
      method: 'GET',
      url: odataPath(`${requestsPath('assignment')}/filterByCurrentUser(on='principal')`, {
        $filter: "status eq 'PendingApproval'",
        ...expand,
      }),
    },
  ]);

  const now = new Date().toISOString();
  const rows: RoleRow[] = [
    ...(await client.values<GraphSchedule>(eligible)).map((s) => scheduleRow(s, 'eligible')),
    ...(await client.values<GraphSchedule>(active)).map((s) =>
      scheduleRow(s, s.scheduleInfo.startDateTime > now ? 'scheduled' : 'active'),
    ),
    ...(await client.values<GraphRequest>(pending)).map((r): RoleRow => ({
      group: { id: r.groupId, displayName: r.group?.displayName ?? r.groupId },
      accessId: r.accessId,
      status: 'pendingApproval',
      assignmentType: null,
      startDateTime: r.scheduleInfo.startDateTime,
      endDateTime: r.scheduleInfo.expiration.endDateTime,
      id: r.id,
    })),
  ].sort(
    (a, b) =>
      a.group.displayName.localeCompare(b.group.displayName) ||
      a.accessId.localeCompare(b.accessId) ||
      a.status.localeCompare(b.status),
  );
  const roles = await rolesOfGroups(
    client,
    rows.map((row) => row.group.id),
  );

  if (output.json) {
    printJson(
      output,
      rows.map((row) => ({ ...row, roles: roles.get(row.group.id) ?? null })),
    );
    return;
  }
  if (rows.length === 0) {
    output.out('You have no eligible or active group assignments.');
    return;
  }
  output.out(
    table(
      ['GROUP', 'ACCESS', 'STATUS', 'UNTIL', 'ROLES'],
      rows.map((row) => [
        row.group.displayName,
        row.accessId,
        statusText(row),
        row.endDateTime ? when(row.endDateTime) : 'no end',
        roleList(roles.get(row.group.id)),
      ]),
    ),
  );
}

function scheduleRow(schedule: GraphSchedule, status: RoleRow['status']): RoleRow {
  return {
    group: {
      id: schedule.groupId,
      displayName: schedule.group?.displayName ?? schedule.groupId,
    },
    accessId: schedule.accessId,
    status,
    assignmentType: schedule.assignmentType ?? null,
    startDateTime: schedule.scheduleInfo.startDateTime,
    endDateTime: schedule.scheduleInfo.expiration.endDateTime,
    id: schedule.id,
  };
}

function statusText(row: RoleRow): string {
  if (row.status === 'pendingApproval') return 'pending approval';
  if (row.status === 'scheduled') return `starts ${when(row.startDateTime)}`;
  if (row.status === 'active') return row.assignmentType === 'activated' ? 'active' : 'assigned';
  return 'eligible';
}

// activate

interface Outcome {
  group: GroupRef;
  accessId: AccessId;
  outcome: 'active' | 'scheduled' | 'pendingApproval' | 'refused' | 'failed';
  requestId: string | null;
  status: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
  error: { code: string | null; message: string; rules: RuleFailure[] } | null;
}

async function activateAction(output: Output, names: string[], options: ActivateOptions) {
  const { client, credentials } = connect(options);
  const groups = await resolveGroups(client, names);
  const accessId: AccessId = options.owner ? 'owner' : 'member';

  const responses = await client.batch(
    groups.map((group, index) => ({
      id: String(index + 1),
      method: 'POST' as const,
      url: requestsPath('assignment'),
      body: {
        action: 'selfActivate',
        accessId,
        principalId: credentials.userId,
        groupId: group.id,
        justification: options.reason ?? null,
        scheduleInfo: {
          startDateTime: options.start ?? null,
          ...(options.for ? { expiration: { type: 'afterDuration', duration: options.for } } : {}),
        },
        ...(options.ticket
          ? {
              ticketInfo: {
                ticketNumber: options.ticket,
                ticketSystem: options.ticketSystem ?? null,
              },
            }
          : {}),
      },
    })),
  );
  const outcomes = groups.map((group, index) =>
    outcomeOf(client, group, accessId, responses[index]),
  );

  if (output.json) {
    printJson(output, outcomes);
  } else {
    output.out(
      table(
        ['GROUP', 'ACCESS', 'OUTCOME', 'UNTIL', 'REQUEST'],
        outcomes.map((o) => [
          o.group.displayName,
          o.accessId,
          outcomeText(o),
          o.endDateTime ? when(o.endDateTime) : null,
          o.requestId,
        ]),
      ),
    );
    for (const o of outcomes) {
      if (!o.error) continue;
      output.err(`${o.group.displayName}: ${o.error.message}`);
      for (const line of explainLines(o.error)) output.err(`  ${line}`);
    }
  }
  if (outcomes.some((o) => o.error?.rules.some((r) => r.rule === 'MfaRule'))) {
    output.err(MFA_HINT);
  }
  process.exitCode = exitCodeOf(outcomes, responses);
}

function outcomeOf(
  client: ApiClient,
  group: GroupRef,
  accessId: AccessId,
  response: BatchResponse | undefined,
): Outcome {
  const base = {
    group,
    accessId,
    requestId: null,
    status: null,
    startDateTime: null,
    endDateTime: null,
  };
  if (!response || response.status !== 201) {
    const error = toCliError(response?.status ?? 500, response?.body ?? null, client.server);
    return {
      ...base,
      outcome: error.exitCode === ExitCode.refused ? 'refused' : 'failed',
      error: { code: error.code, message: error.message, rules: error.rules },
    };
  }

  const request = response.body as GraphRequest;
  const start = request.scheduleInfo.startDateTime;
  const pending = PENDING.includes(request.status);
  return {
    ...base,
    outcome: pending
      ? 'pendingApproval'
      : start && start > new Date().toISOString()
        ? 'scheduled'
        : 'active',
    requestId: request.id,
    status: request.status,
    startDateTime: start,
    endDateTime: request.scheduleInfo.expiration.endDateTime,
    error: null,
  };
}

function outcomeText(outcome: Outcome): string {
  switch (outcome.outcome) {
    case 'active':
      return 'active';
    case 'scheduled':
      return `starts ${when(outcome.startDateTime)}`;
    case 'pendingApproval':
      return 'pending approval';
    case 'refused':
      return 'refused';
    case 'failed':
      return 'failed';
  }
}

function explainLines(error: { message: string; rules: RuleFailure[] }): string[] {
  return error.rules.map((rule) => `${rule.rule}: ${rule.reason}`);
}

/** The exit code of a batch: signed out beats refused, which beats any other failure. */
function exitCodeOf(outcomes: Outcome[], responses: BatchResponse[]): ExitCode {
  if (responses.some((r) => r.status === 401)) return ExitCode.signedOut;
  if (outcomes.some((o) => o.outcome === 'refused')) return ExitCode.refused;
  if (outcomes.some((o) => o.outcome === 'failed')) return ExitCode.failure;
  return ExitCode.ok;
}

// deactivate, extend, renew

async function deactivateAction(output: Output, name: string, options: ActivateOptions) {
  const { client, credentials } = connect(options);
  const group = await resolveGroup(client, name);
  const accessId: AccessId = options.owner ? 'owner' : 'member';

  const request = await client.post<GraphRequest>(`/v1.0${requestsPath('assignment')}`, {
    action: 'selfDeactivate',
    accessId,
    principalId: credentials.userId,
    groupId: group.id,
    justification: options.reason ?? null,
  });

  if (output.json) {
    printJson(output, { group, accessId, requestId: request.id, status: request.status });
  } else {
    output.out(`Deactivated: you are no longer ${article(accessId)} of ${group.displayName}.`);
  }
}

async function changeAction(
  output: Output,
  action: 'extend' | 'renew',
  name: string,
  options: ChangeOptions,
) {
  const expiration = expirationOf(options, true);
  const { client, credentials } = connect(options);
  const group = await resolveGroup(client, name);
  const kind: Kind = options.eligible ? 'eligibility' : 'assignment';
  const accessId: AccessId = options.owner ? 'owner' : 'member';

  const request = await client.post<GraphRequest>(`/v1.0${requestsPath(kind)}`, {
    action: action === 'extend' ? 'selfExtend' : 'selfRenew',
    accessId,
    principalId: credentials.userId,
    groupId: group.id,
    justification: options.reason ?? null,
    scheduleInfo: { startDateTime: null, expiration },
  });

  const held = kind === 'eligibility' ? 'eligibility for' : 'assignment as';
  const what = `${held} ${accessId} of ${group.displayName}`;
  if (output.json) {
    printJson(output, { group, accessId, kind, requestId: request.id, status: request.status });
  } else if (PENDING.includes(request.status)) {
    output.out(
      `Asked to ${action} your ${what} (${requestWindow(request)}). An administrator decides; ` +
        `follow it with: elevate requests`,
    );
    output.out(`Request: ${request.id}`);
  } else {
    output.out(`Your ${what} is now ${requestWindow(request)}.`);
  }
}

// requests

interface RequestRow {
  kind: Kind;
  request: GraphRequest;
}

async function requestsAction(output: Output, options: RequestsOptions) {
  const { client } = connect(options);

  const query = { $expand: 'group', $top: '100' };
  const responses = await client.batch(
    (['assignment', 'eligibility'] as const).map((kind) => ({
      id: kind,
      method: 'GET' as const,
      url: odataPath(`${requestsPath(kind)}/filterByCurrentUser(on='createdBy')`, query),
    })),
  );
  const rows: RequestRow[] = [];
  for (const [index, kind] of (['assignment', 'eligibility'] as const).entries()) {
    const page = responses[index];
    if (page && page.status >= 300) throw toCliError(page.status, page.body, client.server);
    const items = ((page?.body as { value?: GraphRequest[] } | null)?.value ?? []).map(
      (request) => ({ kind, request }),
    );
    rows.push(...items);
  }
  const sorted = rows
    .sort(
      (a, b) =>
        Number(PENDING.includes(b.request.status)) - Number(PENDING.includes(a.request.status)) ||
        b.request.createdDateTime.localeCompare(a.request.createdDateTime),
    )
    .slice(0, options.top);

  if (output.json) {
    printJson(
      output,
      sorted.map(({ kind, request }) => ({ kind, ...request })),
    );
    return;
  }
  if (sorted.length === 0) {
    output.out('You have made no requests.');
    return;
  }
  output.out(
    table(
      ['ID', 'WHAT', 'GROUP', 'ACCESS', 'STATUS', 'CREATED', 'WINDOW'],
      sorted.map(({ kind, request }) => [
        request.id,
        describeAction(kind, request.action),
        request.group?.displayName ?? request.groupId,
        request.accessId,
        request.status,
        when(request.createdDateTime),
        requestWindow(request),
      ]),
    ),
  );
}

async function cancelAction(output: Output, id: string, options: ClientOptions) {
  const { client } = connect(options);

  let canceled: Kind | null = null;
  for (const kind of ['assignment', 'eligibility'] as const) {
    const response = await client.send(
      'POST',
      `/v1.0${requestsPath(kind)}/${encodeURIComponent(id)}/cancel`,
    );
    if (response.status === 204) {
      canceled = kind;
      break;
    }
    if (response.status !== 404) throw toCliError(response.status, response.body, client.server);
  }
  if (!canceled) {
    throw new CliError(ExitCode.refused, `You have no request with the id ${id}.`, {
      details: ['See your requests with: elevate requests'],
      code: 'ResourceNotFound',
    });
  }

  if (output.json) printJson(output, { id, kind: canceled, status: 'Canceled' });
  else output.out(`Canceled request ${id}.`);
}

function article(accessId: AccessId): string {
  return accessId === 'member' ? 'a member' : 'an owner';
}
