import type { Command } from 'commander';
import { odataPath, quote, type ApiClient } from '../client.js';
import { clientCommand, examples, run } from '../command.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import { fields, printJson, type Output } from '../output.js';
import { humanDuration, parseDuration, parseList } from '../parse.js';
import type { AccessId } from '../pim.js';
import { resolveGroup, resolveUser, type GroupRef } from '../resolve.js';
import { connect, type ClientOptions } from '../session.js';

interface ShowOptions extends ClientOptions {
  member?: boolean;
  owner?: boolean;
}

interface SetOptions extends ShowOptions {
  max?: string;
  maxEligible?: string;
  maxActive?: string;
  require?: string[];
  approvers?: string[];
  /** False with --no-approval; true (the default) leaves approval as it is. */
  approval: boolean;
}

/** The parts of Graph's policy rules that the commands read and write. */
interface Rule {
  '@odata.type': string;
  id: string;
  isExpirationRequired?: boolean;
  maximumDuration?: string | null;
  enabledRules?: string[];
  setting?: Partial<ApprovalSetting>;
  notificationLevel?: string;
  recipientType?: string;
}

interface ApprovalSetting {
  isApprovalRequired: boolean;
  approvalMode: string;
  approvalStages: Stage[];
}

interface Stage {
  approvalStageTimeOutInDays: number;
  isApproverJustificationRequired: boolean;
  escalationTimeInMinutes?: number;
  isEscalationEnabled?: boolean;
  primaryApprovers: Subject[];
  escalationApprovers?: Subject[];
}

interface Subject {
  '@odata.type': string;
  userId?: string;
  groupId?: string;
  description?: string | null;
}

interface Policy {
  id: string;
  lastModifiedDateTime: string | null;
  rules: Rule[];
}

const TYPE = {
  expiration: '#microsoft.graph.unifiedRoleManagementPolicyExpirationRule',
  enablement: '#microsoft.graph.unifiedRoleManagementPolicyEnablementRule',
  approval: '#microsoft.graph.unifiedRoleManagementPolicyApprovalRule',
  singleUser: '#microsoft.graph.singleUser',
  groupMembers: '#microsoft.graph.groupMembers',
};

/** `--require` words and the enablement rules they stand for. */
const REQUIREMENTS: Record<string, string> = {
  mfa: 'MultiFactorAuthentication',
  ticket: 'Ticketing',
  justification: 'Justification',
};

export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description("Show or change a group's PIM policy (administrators, owners)")
    .addHelpCommand(false);
  examples(policy, [
    'elevate policy show "Tier 3 Admins"',
    'elevate policy set "Tier 3 Admins" --max 4h --require mfa,justification',
  ]);

  const show = clientCommand(policy, 'show <group>', "Show a group's member or owner policy")
    .option('--member', 'the member policy (the default)')
    .option('--owner', 'the owner policy')
    .action(run(showAction));
  examples(show, [
    'elevate policy show "Tier 3 Admins"',
    'elevate policy show Partners --owner --json',
  ]);

  const set = clientCommand(policy, 'set <group>', "Change a group's member or owner policy")
    .option('--member', 'the member policy (the default)')
    .option('--owner', 'the owner policy')
    .option('--max <duration>', 'the longest activation, like 4h (at most 24h)', parseDuration)
    .option(
      '--require <list>',
      'what an activation needs: mfa, ticket, justification, comma-separated, or none',
      parseList,
    )
    .option(
      '--approvers <list>',
      'require approval by these users and groups: ada@contoso.com,group:Approvers',
      parseList,
    )
    .option('--no-approval', 'activations need no approval')
    .option(
      '--max-eligible <duration>',
      'the longest eligible assignment, like 180d',
      parseDuration,
    )
    .option('--max-active <duration>', 'the longest active assignment, like 30d', parseDuration)
    .action(run(setAction));
  examples(set, [
    'elevate policy set "Tier 3 Admins" --max 4h --require mfa,ticket,justification',
    'elevate policy set Partners --approvers carol@contoso.com,group:Approvers',
    'elevate policy set Partners --no-approval --require justification',
    'elevate policy set Partners --owner --max-eligible 90d',
  ]);
  set.addHelpText(
    'after',
    '\nAll the changes are made at once, or none is. Options left out keep their setting.',
  );
}

async function showAction(output: Output, name: string, options: ShowOptions) {
  const accessId = accessOf(options);
  const { client } = connect(options);
  const group = await resolveGroup(client, name);
  const policy = await loadPolicy(client, group, accessId);

  printPolicy(output, group, accessId, policy);
}

async function setAction(output: Output, name: string, options: SetOptions) {
  const accessId = accessOf(options);
  if (options.approvers && !options.approval) {
    throw usageError('Give --approvers or --no-approval, not both.');
  }
  const requirements = options.require ? enabledRules(options.require) : null;
  const changes = [
    options.max,
    options.maxEligible,
    options.maxActive,
    options.require,
    options.approvers,
  ].filter((value) => value !== undefined).length;
  if (changes === 0 && options.approval) {
    throw usageError(
      'Say what to change: --max, --require, --approvers, --no-approval, --max-eligible or ' +
        '--max-active.',
    );
  }
  const { client } = connect(options);
  const group = await resolveGroup(client, name);
  const policy = await loadPolicy(client, group, accessId);

  const rules: Rule[] = [];
  if (options.max) rules.push(expiration('Expiration_EndUser_Assignment', options.max));
  if (options.maxEligible) {
    rules.push(expiration('Expiration_Admin_Eligibility', options.maxEligible));
  }
  if (options.maxActive) rules.push(expiration('Expiration_Admin_Assignment', options.maxActive));
  if (requirements) {
    rules.push({
      '@odata.type': TYPE.enablement,
      id: 'Enablement_EndUser_Assignment',
      enabledRules: requirements,
    });
  }
  if (options.approvers || !options.approval) {
    const current = ruleOf(policy, 'Approval_EndUser_Assignment').setting;
    const approvers = options.approvers ? await subjects(client, options.approvers) : null;
    rules.push({
      '@odata.type': TYPE.approval,
      id: 'Approval_EndUser_Assignment',
      setting: approvalSetting(current, approvers),
    });
  }
  await client.patch(`/v1.0/policies/roleManagementPolicies/${encodeURIComponent(policy.id)}`, {
    rules,
  });

  printPolicy(output, group, accessId, await loadPolicy(client, group, accessId));
}

// Reading

async function loadPolicy(client: ApiClient, group: GroupRef, accessId: AccessId): Promise<Policy> {
  const assignments = await client.get<{ value: { policy?: Policy }[] }>(
    odataPath('/v1.0/policies/roleManagementPolicyAssignments', {
      $filter:
        `scopeId eq ${quote(group.id)} and scopeType eq 'Group' and ` +
        `roleDefinitionId eq ${quote(accessId)}`,
      $expand: 'policy($expand=rules)',
    }),
  );
  const policy = assignments.value[0]?.policy;
  if (!policy) {
    throw new CliError(
      ExitCode.failure,
      `The server has no ${accessId} policy for ${group.displayName}.`,
    );
  }
  return policy;
}

function ruleOf(policy: Policy, id: string): Rule {
  const rule = policy.rules.find((r) => r.id.toLowerCase() === id.toLowerCase());
  if (!rule) throw new CliError(ExitCode.failure, `The policy has no rule ${id}.`);
  return rule;
}

/** The policy in a few lines for people, or summarised and whole for scripts. */
function printPolicy(output: Output, group: GroupRef, accessId: AccessId, policy: Policy) {
  const activation = ruleOf(policy, 'Expiration_EndUser_Assignment');
  const needs = ruleOf(policy, 'Enablement_EndUser_Assignment').enabledRules ?? [];
  const approval = ruleOf(policy, 'Approval_EndUser_Assignment').setting;
  const eligible = ruleOf(policy, 'Expiration_Admin_Eligibility');
  const eligibleNeeds = ruleOf(policy, 'Enablement_Admin_Eligibility').enabledRules ?? [];
  const active = ruleOf(policy, 'Expiration_Admin_Assignment');
  const activeNeeds = ruleOf(policy, 'Enablement_Admin_Assignment').enabledRules ?? [];
  const approvalRequired = approval?.isApprovalRequired === true;
  const stages = approval?.approvalStages ?? [];

  if (output.json) {
    printJson(output, {
      group,
      accessId,
      policyId: policy.id,
      lastModifiedDateTime: policy.lastModifiedDateTime,
      activation: {
        maximumDuration: activation.maximumDuration ?? null,
        requirements: words(needs),
        approvalRequired,
        approvalStages: approvalRequired
          ? stages.map((stage) => ({
              approvers: stage.primaryApprovers.map(describeSubject),
              timeoutDays: stage.approvalStageTimeOutInDays,
              approverJustificationRequired: stage.isApproverJustificationRequired,
            }))
          : [],
      },
      eligibleAssignment: assignmentSummary(eligible, eligibleNeeds),
      activeAssignment: assignmentSummary(active, activeNeeds),
      rules: policy.rules,
    });
    return;
  }
  output.out(
    fields([
      ['Group', `${group.displayName} (${accessId} policy)`],
      ['Activation at most', humanDuration(activation.maximumDuration)],
      ['Activation requires', words(needs).join(', ') || 'nothing'],
      [
        'Approval',
        approvalRequired
          ? stages
              .map(
                (stage, index) =>
                  `${stages.length > 1 ? `stage ${index + 1}: ` : ''}` +
                  stage.primaryApprovers.map((s) => describeSubject(s).text).join(', ') +
                  ` (within ${stage.approvalStageTimeOutInDays}d)`,
              )
              .join('; then ')
          : 'not required',
      ],
      ['Eligible assignments', describeAssignment(eligible, eligibleNeeds)],
      ['Active assignments', describeAssignment(active, activeNeeds)],
      ['Policy id', policy.id],
    ]),
  );
}

function assignmentSummary(rule: Rule, needs: string[]) {
  return {
    isExpirationRequired: rule.isExpirationRequired ?? true,
    maximumDuration: rule.maximumDuration ?? null,
    requirements: words(needs),
  };
}

function describeAssignment(rule: Rule, needs: string[]): string {
  const length = rule.isExpirationRequired
    ? `at most ${humanDuration(rule.maximumDuration)}`
    : 'may be permanent';
  const required = words(needs);
  return required.length > 0 ? `${length}; require ${required.join(', ')}` : length;
}

function describeSubject(subject: Subject) {
  const group = subject['@odata.type'].toLowerCase().endsWith('groupmembers');
  const id = (group ? subject.groupId : subject.userId) ?? '';
  const name = subject.description ?? id;
  return {
    type: group ? 'group' : 'user',
    id,
    displayName: name,
    text: group ? `group:${name}` : name,
  };
}

/** The enablement rules in the words of --require. */
function words(enabledRules: string[]): string[] {
  return enabledRules.map(
    (rule) => Object.entries(REQUIREMENTS).find(([, value]) => value === rule)?.[0] ?? rule,
  );
}

// Writing

function accessOf(options: ShowOptions): AccessId {
  if (options.member && options.owner) throw usageError('Give --member or --owner, not both.');
  return options.owner ? 'owner' : 'member';
}

function expiration(id: string, maximumDuration: string): Rule {
  return { '@odata.type': TYPE.expiration, id, isExpirationRequired: true, maximumDuration };
}

function enabledRules(list: string[]): string[] {
  if (list.length === 1 && list[0]?.toLowerCase() === 'none') return [];
  return list.map((item) => {
    const rule = REQUIREMENTS[item.toLowerCase()];
    if (!rule) {
      throw usageError(`--require takes mfa, ticket, justification or none, not '${item}'.`);
    }
    return rule;
  });
}

/** Approvers as Graph names them: `group:NAME` for a group's members, anything else a user. */
async function subjects(client: ApiClient, names: string[]): Promise<Subject[]> {
  if (names.length === 0) throw usageError('--approvers needs at least one user or group.');
  const found: Subject[] = [];
  for (const name of names) {
    const [prefix, ...rest] = name.split(':');
    const value = rest.join(':');
    if (prefix?.toLowerCase() === 'group' && value) {
      const group = await resolveGroup(client, value);
      found.push({ '@odata.type': TYPE.groupMembers, groupId: group.id });
    } else {
      const user = await resolveUser(
        client,
        prefix?.toLowerCase() === 'user' && value ? value : name,
      );
      found.push({ '@odata.type': TYPE.singleUser, userId: user.id });
    }
  }
  return found;
}

/**
 * The approval setting after the change: new approvers make one stage that keeps the current
 * first stage's timeout and justification rule; no approvers means approval is switched off.
 */
function approvalSetting(
  current: Partial<ApprovalSetting> | undefined,
  approvers: Subject[] | null,
) {
  if (approvers === null) return { isApprovalRequired: false };

  const first = current?.approvalStages?.[0];
  return {
    isApprovalRequired: true,
    approvalMode: 'SingleStage',
    approvalStages: [
      {
        approvalStageTimeOutInDays: first?.approvalStageTimeOutInDays ?? 1,
        isApproverJustificationRequired: first?.isApproverJustificationRequired ?? true,
        escalationTimeInMinutes: 0,
        isEscalationEnabled: false,
        primaryApprovers: approvers,
        escalationApprovers: [],
      },
    ],
  };
}
