import type { Command } from 'commander';
import { odataPath, quote } from '../client.js';
import { clientCommand, examples, run } from '../command.js';
import { printJson, table, when, type Output } from '../output.js';
import { parseCount, parseSince } from '../parse.js';
import { resolveGroup, resolveUser } from '../resolve.js';
import { connect, type ClientOptions } from '../session.js';

interface AuditOptions extends ClientOptions {
  since: string;
  category?: string;
  by?: string;
  group?: string;
  top: number;
}

interface DirectoryAudit {
  id: string;
  category: string;
  activityDisplayName: string;
  activityDateTime: string;
  result: string;
  resultReason: string;
  initiatedBy: {
    user: { id: string; userPrincipalName: string | null; displayName: string | null } | null;
    app: { displayName: string | null } | null;
  };
  targetResources: { id: string; type: string; displayName: string | null }[];
  additionalDetails: { key: string; value: string }[];
}

export function registerAuditCommands(program: Command): void {
  const audit = clientCommand(program, 'audit', 'Read the audit log, newest first (administrators)')
    .option('--since <when>', 'from this long ago (like 1d or 2h) or this ISO 8601 date', '1d')
    .option('--category <name>', 'GroupManagement, RoleManagement, UserManagement or Policy')
    .option('--by <user>', 'only what this user did')
    .option('--group <group>', 'only events about this group')
    .option('--top <n>', 'show at most this many', parseCount(1, 999), 50)
    .action(run(auditAction));
  examples(audit, [
    'elevate audit',
    'elevate audit --since 7d --category GroupManagement',
    'elevate audit --since 2026-06-01 --group "Tier 3 Admins" --json',
  ]);
}

async function auditAction(output: Output, options: AuditOptions) {
  const since = parseSince(options.since);
  const { client } = connect(options);

  const conditions = [`activityDateTime ge ${since}`];
  if (options.category) conditions.push(`category eq ${quote(options.category)}`);
  if (options.by) {
    const user = await resolveUser(client, options.by);
    conditions.push(`initiatedBy/user/id eq ${quote(user.id)}`);
  }
  if (options.group) {
    const group = await resolveGroup(client, options.group);
    conditions.push(`targetResources/any(t: t/id eq ${quote(group.id)})`);
  }
  const events = await client.list<DirectoryAudit>(
    odataPath('/v1.0/auditLogs/directoryAudits', {
      $filter: conditions.join(' and '),
      $top: String(Math.min(options.top, 100)),
    }),
    options.top,
  );

  if (output.json) {
    printJson(output, events);
    return;
  }
  if (events.length === 0) {
    output.out(`No audit events since ${when(since)}.`);
    return;
  }
  output.out(
    table(
      ['TIME', 'CATEGORY', 'ACTIVITY', 'BY', 'TARGETS', 'RESULT'],
      events.map((event) => [
        when(event.activityDateTime),
        event.category,
        event.activityDisplayName,
        event.initiatedBy.user?.userPrincipalName ?? event.initiatedBy.app?.displayName ?? null,
        // Requests and the like have only an id, which --json shows; names read better here.
        event.targetResources
          .map((t) => t.displayName)
          .filter(Boolean)
          .join(', '),
        event.result === 'success' ? 'success' : `${event.result}: ${event.resultReason}`,
      ]),
    ),
  );
}
