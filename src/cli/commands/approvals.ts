import type { Command } from 'commander';
import { odataPath, type ApiClient } from '../client.js';
import { clientCommand, examples, run } from '../command.js';
import { CliError, ExitCode } from '../errors.js';
import { printJson, table, type Output } from '../output.js';
import { PIM, requestsPath, requestWindow, type GraphRequest, type Kind } from '../pim.js';
import { toCliError } from '../refusals.js';
import { roleList, rolesOfGroups } from '../resolve.js';
import { connect, type ClientOptions } from '../session.js';

interface DecideOptions extends ClientOptions {
  reason?: string;
}

interface Stage {
  id: string;
  displayName: string | null;
  status: string;
  assignedToMe: boolean;
  reviewResult: string;
}

interface Approval {
  id: string;
  stages: Stage[];
}

interface Waiting {
  kind: Kind;
  request: GraphRequest;
  approval: Approval | null;
}

const APPROVALS = `${PIM}/assignmentApprovals`;

export function registerApprovalCommands(program: Command): void {
  const approvals = clientCommand(
    program,
    'approvals',
    'List the requests that wait for your decision',
  ).action(run(approvalsAction));
  examples(approvals, ['elevate approvals', 'elevate approvals --json']);

  for (const verdict of ['approve', 'deny'] as const) {
    const command = clientCommand(
      program,
      `${verdict} <id>`,
      verdict === 'approve'
        ? 'Approve a request that waits for you'
        : 'Deny a request that waits for you',
    )
      .option('--reason <text>', 'your justification, recorded with the decision')
      .action(
        run((output, id: string, options: DecideOptions) =>
          decideAction(output, verdict, id, options),
        ),
      );
    examples(command, [
      `elevate ${verdict} 4d1c3a52-5b0e-4f4c-9a77-02b6bd7a5a7e --reason "${
        verdict === 'approve' ? 'Matches INC-42' : 'No ticket for this change'
      }"`,
    ]);
  }
}

async function approvalsAction(output: Output, options: ClientOptions) {
  const { client } = connect(options);
  const waiting = await waitingForMe(client);
  const roles = await rolesOfGroups(
    client,
    waiting.map((w) => w.request.groupId),
  );

  if (output.json) {
    printJson(
      output,
      waiting.map(({ kind, request, approval }) => ({
        id: request.id,
        kind,
        what: what(kind, request.action),
        requester: request.principal ?? { id: request.principalId },
        group: request.group ?? { id: request.groupId },
        accessId: request.accessId,
        roles: roles.get(request.groupId) ?? null,
        justification: request.justification,
        ticketInfo: request.ticketInfo,
        scheduleInfo: request.scheduleInfo,
        createdDateTime: request.createdDateTime,
        stages: approval?.stages ?? [],
      })),
    );
    return;
  }
  if (waiting.length === 0) {
    output.out('Nothing waits for your decision.');
    return;
  }
  output.out(
    table(
      ['ID', 'WHAT', 'REQUESTER', 'GROUP', 'ACCESS', 'ROLES', 'JUSTIFICATION', 'TICKET', 'WINDOW'],
      waiting.map(({ kind, request }) => [
        request.id,
        what(kind, request.action),
        request.principal?.userPrincipalName ?? request.principalId,
        request.group?.displayName ?? request.groupId,
        request.accessId,
        roleList(roles.get(request.groupId)),
        request.justification,
        request.ticketInfo.ticketNumber,
        requestWindow(request),
      ]),
    ),
  );
  output.out('\nDecide with: elevate approve ID --reason TEXT, or elevate deny ID --reason TEXT');
}

async function decideAction(
  output: Output,
  verdict: 'approve' | 'deny',
  id: string,
  options: DecideOptions,
) {
  const { client } = connect(options);

  // Read before deciding: once decided, the request no longer waits for this approver, who
  // may then not see it any more.
  const approval = await client.get<Approval>(`/v1.0${APPROVALS}/${encodeURIComponent(id)}`);
  const found = await findRequest(client, approval.id);
  const index = approval.stages.findIndex((s) => s.assignedToMe && s.status === 'InProgress');
  const stage = approval.stages[index];
  if (!stage) {
    throw new CliError(ExitCode.refused, `Nothing in request ${id} waits for your decision.`, {
      details: ['See what waits for you with: elevate approvals'],
      code: 'NotAnApprover',
    });
  }

  const reviewResult = verdict === 'approve' ? 'Approve' : 'Deny';
  await client.patch(`/v1.0${APPROVALS}/${approval.id}/steps/${stage.id}`, {
    reviewResult,
    justification: options.reason ?? null,
  });

  const nextStage = verdict === 'approve' && index < approval.stages.length - 1;
  const outcome = verdict === 'deny' ? 'denied' : nextStage ? 'nextStage' : 'approved';
  if (output.json) {
    printJson(output, { id: approval.id, stageId: stage.id, reviewResult, outcome });
    return;
  }
  const request = found?.request;
  const requester = request?.principal?.userPrincipalName ?? 'the requester';
  const group = request?.group?.displayName ?? 'the group';
  const access = request?.accessId ?? 'member';
  if (outcome === 'denied') {
    output.out(`Denied: ${requester} does not get ${access} of ${group}.`);
  } else if (outcome === 'nextStage') {
    output.out(`Approved stage ${index + 1}; the next stage now waits for its approvers.`);
  } else if (found?.kind === 'eligibility' || request?.action !== 'selfActivate') {
    output.out(
      `Approved: the ${what(found?.kind ?? 'assignment', request?.action ?? '')} ` +
        `of ${requester} for ${group} is applied.`,
    );
  } else {
    output.out(`Approved: ${requester} is now ${access} of ${group}.`);
  }
}

/** The requests waiting for the caller, with their approvals, in one round trip. */
async function waitingForMe(client: ApiClient): Promise<Waiting[]> {
  const expand = { $expand: 'principal,group' };
  const [approvals, assignment, eligibility] = await client.batch([
    { id: 'approvals', method: 'GET', url: `${APPROVALS}/filterByCurrentUser(on='approver')` },
    {
      id: 'assignment',
      method: 'GET',
      url: odataPath(`${requestsPath('assignment')}/filterByCurrentUser(on='approver')`, expand),
    },
    {
      id: 'eligibility',
      method: 'GET',
      url: odataPath(`${requestsPath('eligibility')}/filterByCurrentUser(on='approver')`, expand),
    },
  ]);

  const byId = new Map(
    (await client.values<Approval>(approvals)).map((approval) => [approval.id, approval]),
  );
  const requests: Waiting[] = [
    ...(await client.values<GraphRequest>(assignment)).map((request) => ({
      kind: 'assignment' as const,
      request,
      approval: byId.get(request.id) ?? null,
    })),
    ...(await client.values<GraphRequest>(eligibility)).map((request) => ({
      kind: 'eligibility' as const,
      request,
      approval: byId.get(request.id) ?? null,
    })),
  ];
  return requests.sort((a, b) =>
    a.request.createdDateTime.localeCompare(b.request.createdDateTime),
  );
}

/** A request by id, whichever of the two request collections holds it. */
async function findRequest(client: ApiClient, id: string) {
  const expand = { $expand: 'principal,group' };
  const responses = await client.batch(
    (['assignment', 'eligibility'] as const).map((kind) => ({
      id: kind,
      method: 'GET' as const,
      url: odataPath(`${requestsPath(kind)}/${encodeURIComponent(id)}`, expand),
    })),
  );
  for (const [index, kind] of (['assignment', 'eligibility'] as const).entries()) {
    const response = responses[index];
    if (response?.status === 200) return { kind, request: response.body as GraphRequest };
    if (response && response.status !== 404) {
      throw toCliError(response.status, response.body, client.server);
    }
  }
  return null;
}

function what(kind: Kind, action: string): string {
  if (action === 'selfExtend') return kind === 'eligibility' ? 'extend eligibility' : 'extend';
  if (action === 'selfRenew') return kind === 'eligibility' ? 'renew eligibility' : 'renew';
  return 'activation';
}
