import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoleIds } from '../../src/directory/roles.js';
import { defaultRules } from '../../src/pim/policies/defaults.js';
import {
  parsePolicyAssignmentId,
  parsePolicyId,
  policyAssignmentIdFor,
  policyIdFor,
} from '../../src/pim/policies/ids.js';
import { RULE_IDS, type PolicyRule } from '../../src/pim/policies/model.js';
import { loadPolicy } from '../../src/pim/policies/store.js';
import { durationMs } from '../../src/pim/durations.js';
import { toPolicyView } from '../../src/pim/policies/view.js';
import { HOUR } from '../support/clock.js';
import {
  PUBLIC_URL,
  describeEachDatabase,
  type Json,
  type Response,
  type TestElevate,
  type TestUser,
} from '../support/elevate.js';

const POLICIES = '/v1.0/policies/roleManagementPolicies';
const ASSIGNMENTS = '/v1.0/policies/roleManagementPolicyAssignments';
const DAY = 24 * HOUR;

const EXPIRATION = '#microsoft.graph.unifiedRoleManagementPolicyExpirationRule';
const ENABLEMENT = '#microsoft.graph.unifiedRoleManagementPolicyEnablementRule';
const APPROVAL = '#microsoft.graph.unifiedRoleManagementPolicyApprovalRule';
const NOTIFICATION = '#microsoft.graph.unifiedRoleManagementPolicyNotificationRule';
const AUTH_CONTEXT = '#microsoft.graph.unifiedRoleManagementPolicyAuthenticationContextRule';

const scope = (groupId: string, more = '') =>
  `$filter=${encodeURIComponent(`scopeId eq '${groupId}' and scopeType eq 'Group'${more}`)}`;

const target = (caller: string, level: string) => ({
  '@odata.type': 'microsoft.graph.unifiedRoleManagementPolicyRuleTarget',
  caller,
  operations: ['All'],
  level,
  inheritableSettings: [],
  enforcedSettings: [],
});

/** The body of E11: activation for at most 1 h 45 min. */
const activationRule = (maximumDuration = 'PT1H45M') => ({
  '@odata.type': EXPIRATION,
  id: 'Expiration_EndUser_Assignment',
  isExpirationRequired: true,
  maximumDuration,
  target: target('EndUser', 'Assignment'),
});

/** The body of the how-to's example 3: approval by a user and the members of a group. */
const approvalRule = (approvers: object[], stages?: object[]) => ({
  '@odata.type': APPROVAL,
  id: 'Approval_EndUser_Assignment',
  target: target('EndUser', 'Assignment'),
  setting: {
    '@odata.type': 'microsoft.graph.approvalSettings',
    isApprovalRequired: true,
    isApprovalRequiredForExtension: false,
    isRequestorJustificationRequired: true,
    approvalMode: 'SingleStage',
    approvalStages: stages ?? [
      {
        '@odata.type': 'microsoft.graph.unifiedApprovalStage',
        approvalStageTimeOutInDays: 1,
        isApproverJustificationRequired: true,
        escalationTimeInMinutes: 0,
        primaryApprovers: approvers,
        isEscalationEnabled: false,
        escalationApprovers: [],
      },
    ],
  },
});

const singleUser = (userId: string) => ({ '@odata.type': '#microsoft.graph.singleUser', userId });
const groupMembers = (groupId: string) => ({
  '@odata.type': '#microsoft.graph.groupMembers',
  groupId,
});

/** The id of the group's member or owner policy, found as a client finds it. */
async function policyIdOf(elevate: TestElevate, groupId: string, access: 'member' | 'owner') {
  const response = await elevate.request(
    'GET',
    `${ASSIGNMENTS}?${scope(groupId, ` and roleDefinitionId eq '${access}'`)}`,
  );
  assert.equal(response.status, 200, JSON.stringify(response.body));
  assert.equal(response.body.value.length, 1);
  return response.body.value[0].policyId as string;
}

async function getRule(elevate: TestElevate, policyId: string, ruleId: string) {
  const response = await elevate.request('GET', `${POLICIES}/${policyId}/rules/${ruleId}`);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body;
}

function patchRule(
  elevate: TestElevate,
  policyId: string,
  ruleId: string,
  body: unknown,
  as?: TestUser,
): Promise<Response> {
  return elevate.request('PATCH', `${POLICIES}/${policyId}/rules/${ruleId}`, {
    body,
    ...(as ? { as } : {}),
  });
}

function assertError(response: Response, status: number, code: string, message?: RegExp) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.error.code, code);
  if (message) assert.match(response.body.error.message, message);
}

async function policyRows(elevate: TestElevate, groupId: string) {
  return elevate.app.db.kysely
    .selectFrom('pim_policies')
    .selectAll()
    .where('group_id', '=', groupId)
    .execute();
}

async function auditActivities(elevate: TestElevate, targetId: string) {
  const rows = await elevate.app.db.kysely
    .selectFrom('audit_events')
    .innerJoin('audit_targets', 'audit_targets.audit_event_id', 'audit_events.id')
    .select([
      'audit_events.activity_display_name as activity',
      'audit_events.category',
      'audit_events.logged_by_service as service',
      'audit_events.initiator_id as initiatorId',
      'audit_events.additional_details as details',
    ])
    .where('audit_targets.target_id', '=', targetId)
    .orderBy('audit_events.activity_date_time')
    .execute();
  return rows.map((row) => ({
    ...row,
    details: Object.fromEntries(
      (JSON.parse(row.details) as { key: string; value: string }[]).map((d) => [d.key, d.value]),
    ),
  }));
}

async function addOwner(elevate: TestElevate, groupId: string, user: TestUser) {
  const response = await elevate.request('POST', `/v1.0/groups/${groupId}/owners/$ref`, {
    body: { '@odata.id': `${PUBLIC_URL}/v1.0/directoryObjects/${user.id}` },
  });
  assert.equal(response.status, 204, JSON.stringify(response.body));
}

describe('policy ids and the policy view', () => {
  const groupId = '60bba733-f09d-49b7-8445-32369aa066b3';

  it('derives stable policy and policy assignment ids from the group and the access', () => {
    const member = policyIdFor(groupId, 'member');
    const owner = policyIdFor(groupId, 'owner');

    assert.match(member, /^Group_60bba733-f09d-49b7-8445-32369aa066b3_[0-9a-f-]{36}$/);
    assert.notEqual(member, owner);
    assert.equal(policyIdFor(groupId.toUpperCase(), 'member'), member);
    assert.deepEqual(parsePolicyId(member), { groupId, accessId: 'member' });
    assert.deepEqual(parsePolicyId(owner.toUpperCase().replace('GROUP_', 'Group_')), {
      groupId,
      accessId: 'owner',
    });
    assert.equal(policyAssignmentIdFor(groupId, 'owner'), `${owner}_owner`);
    assert.deepEqual(parsePolicyAssignmentId(`${owner}_owner`), { groupId, accessId: 'owner' });
    assert.equal(parsePolicyAssignmentId(`${owner}_member`), null);
    assert.equal(parsePolicyId(`Group_${groupId}_f21b26d9-9ff9-4af1-b1d4-bddf28591369`), null);
    assert.equal(parsePolicyId('DirectoryRole_x_y'), null);
  });

  it('reads ISO 8601 durations of fixed length only', () => {
    assert.equal(durationMs('PT1H45M'), 105 * 60 * 1000);
    assert.equal(durationMs('P365D'), 365 * DAY);
    assert.equal(durationMs('P2W'), 14 * DAY);
    assert.equal(durationMs('P1Y'), null);
    assert.equal(durationMs('P1M'), null);
    assert.equal(durationMs('8 hours'), null);
  });

  it('reads the default rules as the settings the engine acts on', () => {
    const view = toPolicyView(
      { policyId: policyIdFor(groupId, 'member'), groupId, accessId: 'member' },
      defaultRules(),
    );

    assert.deepEqual(view.activation, {
      isExpirationRequired: true,
      maximumDurationMs: 8 * HOUR,
      mfa: false,
      justification: true,
      ticket: false,
      approval: {
        required: false,
        isRequestorJustificationRequired: true,
        stages: [{ timeoutDays: 1, isApproverJustificationRequired: true, approvers: [] }],
      },
    });
    assert.deepEqual(view.eligibleAssignment, {
      isExpirationRequired: true,
      maximumDurationMs: 365 * DAY,
      mfa: false,
      justification: false,
      ticket: false,
    });
    assert.deepEqual(view.activeAssignment, {
      isExpirationRequired: true,
      maximumDurationMs: 180 * DAY,
      mfa: false,
      justification: true,
      ticket: false,
    });
    assert.equal(Object.keys(view.notifications).length, 9);
    for (const setting of Object.values(view.notifications)) {
      assert.deepEqual(setting, { level: 'All', isDefaultRecipientsEnabled: true, recipients: [] });
    }
  });

  it('reads changed rules: approvers, permanent assignments and NoApproval', () => {
    const rules = defaultRules().map((rule): PolicyRule => {
      if (rule['@odata.type'] === EXPIRATION && rule.id === 'Expiration_Admin_Eligibility') {
        return { ...rule, isExpirationRequired: false };
      }
      if (rule['@odata.type'] === APPROVAL) {
        const stage = rule.setting.approvalStages[0]!;
        return {
          ...rule,
          setting: {
            ...rule.setting,
            isApprovalRequired: true,
            approvalStages: [
              {
                ...stage,
                approvalStageTimeOutInDays: 3,
                primaryApprovers: [
                  { '@odata.type': '#microsoft.graph.singleUser', userId: 'u1', description: null },
                  {
                    '@odata.type': '#microsoft.graph.groupMembers',
                    groupId: 'g1',
                    description: null,
                  },
                ],
              },
            ],
          },
        };
      }
      return rule;
    });
    const view = toPolicyView({ policyId: 'p', groupId, accessId: 'owner' }, rules);

    assert.equal(view.eligibleAssignment.isExpirationRequired, false);
    assert.equal(view.eligibleAssignment.maximumDurationMs, null);
    assert.equal(view.activation.approval.required, true);
    assert.deepEqual(view.activation.approval.stages, [
      {
        timeoutDays: 3,
        isApproverJustificationRequired: true,
        approvers: [
          { kind: 'user', userId: 'u1' },
          { kind: 'group', groupId: 'g1' },
        ],
      },
    ]);

    const noApproval = rules.map((rule): PolicyRule =>
      rule['@odata.type'] === APPROVAL
        ? { ...rule, setting: { ...rule.setting, approvalMode: 'NoApproval' } }
        : rule,
    );
    assert.equal(toPolicyView(view, noApproval).activation.approval.required, false);
  });
});

describeEachDatabase('PIM policies', (elevate) => {
  it('shows a group not yet onboarded with its two default policies, writing nothing', async () => {
    const group = await elevate().createGroup();

    const response = await elevate().request('GET', `${POLICIES}?${scope(group.id)}&$expand=rules`);

    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(
      response.body['@odata.context'],
      `${PUBLIC_URL}/v1.0/$metadata#policies/roleManagementPolicies(rules())`,
    );
    assert.equal(response.body.value.length, 2);
    const [member, owner] = response.body.value;
    assert.equal(member.id, policyIdFor(group.id, 'member'));
    assert.equal(owner.id, policyIdFor(group.id, 'owner'));
    for (const policy of response.body.value) {
      assert.deepEqual(
        { ...policy, rules: undefined, 'rules@odata.context': undefined },
        {
          id: policy.id,
          displayName: 'Group',
          description: 'Group',
          isOrganizationDefault: false,
          scopeId: group.id,
          scopeType: 'Group',
          lastModifiedDateTime: null,
          lastModifiedBy: { displayName: null, id: null },
          rules: undefined,
          'rules@odata.context': undefined,
        },
      );
      assert.deepEqual(
        policy.rules.map((rule: PolicyRule) => rule.id),
        [...RULE_IDS],
      );
    }
    assert.deepEqual(await policyRows(elevate(), group.id), []);
  });

  it('answers the documented default rules', async () => {
    const group = await elevate().createGroup();
    const policyId = await policyIdOf(elevate(), group.id, 'owner');
    const all = { operations: ['All'], inheritableSettings: [], enforcedSettings: [] };

    const rules = await elevate().request('GET', `${POLICIES}/${policyId}/rules`);

    assert.equal(rules.status, 200);
    const byId = new Map<string, Json>(rules.body.value.map((rule: Json) => [rule.id, rule]));
    assert.deepEqual(byId.get('Expiration_EndUser_Assignment'), {
      '@odata.type': EXPIRATION,
      id: 'Expiration_EndUser_Assignment',
      isExpirationRequired: true,
      maximumDuration: 'PT8H',
      target: { caller: 'EndUser', level: 'Assignment', ...all },
    });
    assert.deepEqual(byId.get('Enablement_EndUser_Assignment'), {
      '@odata.type': ENABLEMENT,
      id: 'Enablement_EndUser_Assignment',
      enabledRules: ['Justification'],
      target: { caller: 'EndUser', level: 'Assignment', ...all },
    });
    assert.deepEqual(byId.get('Approval_EndUser_Assignment'), {
      '@odata.type': APPROVAL,
      id: 'Approval_EndUser_Assignment',
      target: { caller: 'EndUser', level: 'Assignment', ...all },
      setting: {
        isApprovalRequired: false,
        isApprovalRequiredForExtension: false,
        isRequestorJustificationRequired: true,
        approvalMode: 'SingleStage',
        approvalStages: [
          {
            approvalStageTimeOutInDays: 1,
            isApproverJustificationRequired: true,
            escalationTimeInMinutes: 0,
            isEscalationEnabled: false,
            primaryApprovers: [],
            escalationApprovers: [],
          },
        ],
      },
    });
    assert.deepEqual(byId.get('AuthenticationContext_EndUser_Assignment'), {
      '@odata.type': AUTH_CONTEXT,
      id: 'AuthenticationContext_EndUser_Assignment',
      isEnabled: false,
      claimValue: null,
      target: { caller: 'EndUser', level: 'Assignment', ...all },
    });
    assert.equal(byId.get('Expiration_Admin_Eligibility').maximumDuration, 'P365D');
    assert.equal(byId.get('Expiration_Admin_Eligibility').isExpirationRequired, true);
    assert.deepEqual(byId.get('Enablement_Admin_Eligibility').enabledRules, []);
    assert.equal(byId.get('Expiration_Admin_Assignment').maximumDuration, 'P180D');
    assert.equal(byId.get('Expiration_Admin_Assignment').isExpirationRequired, true);
    assert.deepEqual(byId.get('Enablement_Admin_Assignment').enabledRules, ['Justification']);
    assert.deepEqual(byId.get('Notification_Approver_Admin_Eligibility'), {
      '@odata.type': NOTIFICATION,
      id: 'Notification_Approver_Admin_Eligibility',
      notificationType: 'Email',
      recipientType: 'Approver',
      notificationLevel: 'All',
      isDefaultRecipientsEnabled: true,
      notificationRecipients: [],
      target: { caller: 'Admin', level: 'Eligibility', ...all },
    });
    const notifications = rules.body.value.filter((r: PolicyRule) => r.id.startsWith('Notif'));
    assert.equal(notifications.length, 9);
    for (const rule of notifications) {
      assert.equal(rule.recipientType, rule.id.split('_')[1]);
      assert.equal(rule.notificationLevel, 'All');
    }
  });

  it('expands rules($select=id) as in Graph example 3', async () => {
    const group = await elevate().createGroup();

    const response = await elevate().request(
      'GET',
      `${POLICIES}?${scope(group.id)}&$expand=rules($select=id)`,
    );

    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.match(
      response.body['@odata.context'],
      /#policies\/roleManagementPolicies\(rules\(id\)\)$/,
    );
    for (const policy of response.body.value) {
      assert.equal(
        policy['rules@odata.context'],
        `${PUBLIC_URL}/v1.0/$metadata#policies/roleManagementPolicies('${policy.id}')/rules(id)`,
      );
      assert.equal(policy.rules.length, 17);
      for (const rule of policy.rules) assert.deepEqual(Object.keys(rule), ['@odata.type', 'id']);
    }
  });

  it('requires the scope filter and knows only existing groups', async () => {
    const missing = await elevate().request('GET', POLICIES);
    assertError(missing, 400, 'BadRequest', /scopeId eq/);

    const onlyId = await elevate().request(
      'GET',
      `${POLICIES}?$filter=${encodeURIComponent("scopeId eq 'x'")}`,
    );
    assertError(onlyId, 400, 'BadRequest', /scopeType/);

    const unknown = await elevate().request(
      'GET',
      `${POLICIES}?${scope('00000000-0000-4000-8000-000000000000')}`,
    );
    assertError(unknown, 404, 'ResourceNotFound');

    const directory = await elevate().request(
      'GET',
      `${POLICIES}?$filter=` +
        encodeURIComponent("scopeId eq '/' and scopeType eq 'DirectoryRole'"),
    );
    assert.equal(directory.status, 200);
    assert.deepEqual(directory.body.value, []);

    const group = await elevate().createGroup();
    const organizationDefault = await elevate().request(
      'GET',
      `${POLICIES}?${scope(group.id, ' and isOrganizationDefault eq true')}`,
    );
    assert.equal(organizationDefault.status, 200);
    assert.deepEqual(organizationDefault.body.value, []);
  });

  it('onboards the group on the first rule change and applies E11', async () => {
    const group = await elevate().createGroup();
    const policyId = await policyIdOf(elevate(), group.id, 'member');
    elevate().clock.advance(HOUR);

    const response = await patchRule(
      elevate(),
      policyId,
      'Expiration_EndUser_Assignment',
      activationRule(),
    );

    assert.equal(response.status, 204, JSON.stringify(response.body));
    const rule = await getRule(elevate(), policyId, 'Expiration_EndUser_Assignment');
    assert.equal(rule.maximumDuration, 'PT1H45M');
    assert.equal(rule.isExpirationRequired, true);

    const list = await elevate().request('GET', `${POLICIES}?${scope(group.id)}&$expand=rules`);
    assert.equal(list.body.value.length, 2);
    const member = list.body.value.find((p: { id: string }) => p.id === policyId);
    assert.equal(member.rules.length, 17);
    assert.equal(member.lastModifiedDateTime, elevate().clock.now().toISOString());
    assert.deepEqual(member.lastModifiedBy, {
      displayName: 'Administrator',
      id: elevate().admin.id,
    });
    const owner = list.body.value.find((p: { id: string }) => p.id !== policyId);
    assert.equal(owner.rules.length, 17);
    assert.equal(owner.lastModifiedDateTime, null);

    const rows = await policyRows(elevate(), group.id);
    assert.equal(rows.length, 2);
    const ruleCount = await elevate()
      .app.db.kysely.selectFrom('pim_policy_rules')
      .select('rule_id')
      .where(
        'policy_id',
        'in',
        rows.map((row) => row.id),
      )
      .execute();
    assert.equal(ruleCount.length, 34);
  });

  it('writes the onboarding and the rule change to the audit log', async () => {
    const group = await elevate().createGroup();
    const policyId = await policyIdOf(elevate(), group.id, 'member');

    await patchRule(elevate(), policyId, 'Expiration_EndUser_Assignment', activationRule());
    elevate().clock.advance(HOUR);
    await patchRule(elevate(), policyId, 'Expiration_EndUser_Assignment', activationRule('PT2H'));

    const events = await auditActivities(elevate(), group.id);
    // Events of one transaction share an instant, so they are compared as a set.
    const pim = events.filter((event) => event.service === 'PIM');
    assert.deepEqual(pim.map((event) => event.activity).sort(), [
      'Onboarded resource to PIM',
      'Update role setting in PIM',
      'Update role setting in PIM',
    ]);
    const changes = pim.filter((event) => event.activity === 'Update role setting in PIM');
    for (const event of pim) {
      assert.equal(event.category, 'GroupManagement');
      assert.equal(event.initiatorId, elevate().admin.id);
    }
    assert.equal(changes[0]!.details.ruleId, 'Expiration_EndUser_Assignment');
    assert.match(changes[0]!.details.setting ?? '', /"maximumDuration":"PT1H45M"/);
    assert.match(changes[1]!.details.setting ?? '', /"maximumDuration":"PT2H"/);
  });

  it('round-trips an approval rule with a user and a group as approvers', async () => {
    const group = await elevate().createGroup();
    const approver = await elevate().createUser({ name: 'approver-anna' });
    const approvers = await elevate().createGroup({ name: 'approvers' });
    const policyId = await policyIdOf(elevate(), group.id, 'member');

    const response = await patchRule(
      elevate(),
      policyId,
      'Approval_EndUser_Assignment',
      approvalRule([singleUser(approver.id), groupMembers(approvers.id)]),
    );

    assert.equal(response.status, 204, JSON.stringify(response.body));
    const rule = await getRule(elevate(), policyId, 'Approval_EndUser_Assignment');
    assert.equal(rule.setting.isApprovalRequired, true);
    assert.equal(rule.setting.approvalMode, 'SingleStage');
    assert.deepEqual(rule.setting.approvalStages[0].primaryApprovers, [
      {
        '@odata.type': '#microsoft.graph.singleUser',
        userId: approver.id,
        description: 'approver-anna',
      },
      {
        '@odata.type': '#microsoft.graph.groupMembers',
        groupId: approvers.id,
        description: 'approvers',
      },
    ]);

    const view = await loadPolicy(elevate().app.db.kysely, group.id, 'member');
    assert.equal(view.activation.approval.required, true);
    assert.deepEqual(view.activation.approval.stages[0]!.approvers, [
      { kind: 'user', userId: approver.id },
      { kind: 'group', groupId: approvers.id },
    ]);
    const owner = await loadPolicy(elevate().app.db.kysely, group.id, 'owner');
    assert.equal(owner.activation.approval.required, false);
  });

  it('accepts two serial stages and enum values in any case', async () => {
    const group = await elevate().createGroup();
    const first = await elevate().createUser();
    const second = await elevate().createUser();
    const policyId = await policyIdOf(elevate(), group.id, 'owner');
    const stage = (userId: string, days: number) => ({
      approvalStageTimeOutInDays: days,
      isApproverJustificationRequired: false,
      primaryApprovers: [singleUser(userId)],
    });
    const body = approvalRule([], [stage(first.id, 2), stage(second.id, 7)]);
    body.setting.approvalMode = 'serial';

    const response = await patchRule(elevate(), policyId, 'Approval_EndUser_Assignment', body);

    assert.equal(response.status, 204, JSON.stringify(response.body));
    const view = await loadPolicy(elevate().app.db.kysely, group.id, 'owner');
    assert.deepEqual(
      view.activation.approval.stages.map((s) => [s.timeoutDays, s.approvers]),
      [
        [2, [{ kind: 'user', userId: first.id }]],
        [7, [{ kind: 'user', userId: second.id }]],
      ],
    );
    const rule = await getRule(elevate(), policyId, 'Approval_EndUser_Assignment');
    assert.equal(rule.setting.approvalMode, 'Serial');
  });

  it('changes enablement and notification rules', async () => {
    const group = await elevate().createGroup();
    const policyId = await policyIdOf(elevate(), group.id, 'member');

    const enablement = await patchRule(elevate(), policyId, 'Enablement_EndUser_Assignment', {
      '@odata.type': ENABLEMENT,
      id: 'Enablement_EndUser_Assignment',
      enabledRules: ['Justification', 'multiFactorAuthentication', 'Ticketing'],
      target: target('EndUser', 'Assignment'),
    });
    const notification = await patchRule(
      elevate(),
      policyId,
      'Notification_Admin_EndUser_Assignment',
      {
        '@odata.type': NOTIFICATION,
        id: 'Notification_Admin_EndUser_Assignment',
        notificationType: 'Email',
        recipientType: 'Admin',
        notificationLevel: 'Critical',
        isDefaultRecipientsEnabled: false,
        notificationRecipients: ['secops@example.com', 'SecOps@example.com', 'pim@example.org'],
      },
    );

    assert.equal(enablement.status, 204, JSON.stringify(enablement.body));
    assert.equal(notification.status, 204, JSON.stringify(notification.body));
    const view = await loadPolicy(elevate().app.db.kysely, group.id, 'member');
    assert.deepEqual(
      { mfa: view.activation.mfa, justification: view.activation.justification },
      { mfa: true, justification: true },
    );
    assert.equal(view.activation.ticket, true);
    assert.deepEqual(view.notifications.Notification_Admin_EndUser_Assignment, {
      level: 'Critical',
      isDefaultRecipientsEnabled: false,
      recipients: ['secops@example.com', 'pim@example.org'],
    });
    assert.deepEqual(view.notifications.Notification_Requestor_EndUser_Assignment, {
      level: 'All',
      isDefaultRecipientsEnabled: true,
      recipients: [],
    });
  });

  it('keeps member and owner policies, and the policies of two groups, apart', async () => {
    const partners = await elevate().createGroup({ name: 'partners' });
    const employees = await elevate().createGroup({ name: 'employees' });
    const partnersMember = await policyIdOf(elevate(), partners.id, 'member');
    const approver = await elevate().createUser();

    const response = await patchRule(
      elevate(),
      partnersMember,
      'Approval_EndUser_Assignment',
      approvalRule([singleUser(approver.id)]),
    );
    await patchRule(
      elevate(),
      partnersMember,
      'Expiration_EndUser_Assignment',
      activationRule('PT2H'),
    );

    assert.equal(response.status, 204);
    const db = elevate().app.db.kysely;
    assert.equal((await loadPolicy(db, partners.id, 'member')).activation.approval.required, true);
    assert.equal((await loadPolicy(db, partners.id, 'owner')).activation.approval.required, false);
    assert.equal(
      (await loadPolicy(db, employees.id, 'member')).activation.approval.required,
      false,
    );
    assert.equal(
      (await loadPolicy(db, partners.id, 'owner')).activation.maximumDurationMs,
      8 * HOUR,
    );
    assert.equal(
      (await loadPolicy(db, employees.id, 'member')).activation.maximumDurationMs,
      8 * HOUR,
    );
    assert.equal(
      (await loadPolicy(db, partners.id, 'member')).activation.maximumDurationMs,
      2 * HOUR,
    );
    assert.deepEqual(await policyRows(elevate(), employees.id), []);
  });

  describe('refuses invalid rules with 400 and changes nothing', () => {
    const cases: [string, string, (ids: { user: string; group: string }) => object, RegExp][] = [
      [
        'a wrong @odata.type',
        'Expiration_EndUser_Assignment',
        () => ({ ...activationRule(), '@odata.type': ENABLEMENT }),
        /@odata\.type must be '#microsoft\.graph\.unifiedRoleManagementPolicyExpirationRule'/,
      ],
      [
        'a missing @odata.type',
        'Expiration_EndUser_Assignment',
        () => ({ id: 'Expiration_EndUser_Assignment', maximumDuration: 'PT2H' }),
        /@odata\.type is required/,
      ],
      [
        'a duration that is not ISO 8601',
        'Expiration_EndUser_Assignment',
        () => activationRule('8 hours'),
        /not an ISO 8601 duration/,
      ],
      [
        'a duration in months',
        'Expiration_Admin_Eligibility',
        () => ({ '@odata.type': EXPIRATION, maximumDuration: 'P6M' }),
        /not an ISO 8601 duration in weeks, days/,
      ],
      [
        'an activation longer than a day',
        'Expiration_EndUser_Assignment',
        () => activationRule('P2D'),
        /at most P1D/,
      ],
      [
        'a zero duration',
        'Expiration_EndUser_Assignment',
        () => activationRule('PT0S'),
        /longer than zero/,
      ],
      [
        'an activation without end',
        'Expiration_EndUser_Assignment',
        () => ({ ...activationRule(), isExpirationRequired: false }),
        /always ends/,
      ],
      [
        'an id other than the one in the URL',
        'Expiration_EndUser_Assignment',
        () => ({ ...activationRule(), id: 'Expiration_Admin_Assignment' }),
        /id must be 'Expiration_EndUser_Assignment'/,
      ],
      [
        'an unknown property',
        'Expiration_EndUser_Assignment',
        () => ({ ...activationRule(), isPermanentAllowed: true }),
        /not allowed: isPermanentAllowed/,
      ],
      [
        'a target of another caller',
        'Expiration_EndUser_Assignment',
        () => ({ ...activationRule(), target: target('Admin', 'Assignment') }),
        /target\.caller of Expiration_EndUser_Assignment is EndUser/,
      ],
      [
        'an enablement value the rule does not allow',
        'Enablement_Admin_Assignment',
        () => ({ '@odata.type': ENABLEMENT, enabledRules: ['Ticketing'] }),
        /enabledRules\[0\] cannot be 'Ticketing'/,
      ],
      [
        'an unknown approver',
        'Approval_EndUser_Assignment',
        () => approvalRule([singleUser('0b8f7a1e-0000-4000-8000-000000000001')]),
        /Approver '0b8f7a1e-0000-4000-8000-000000000001' does not exist/,
      ],
      [
        'an unknown approver group',
        'Approval_EndUser_Assignment',
        ({ user }) =>
          approvalRule([singleUser(user), groupMembers('0b8f7a1e-0000-4000-8000-000000000002')]),
        /does not exist/,
      ],
      [
        'approval required without approvers',
        'Approval_EndUser_Assignment',
        () => approvalRule([]),
        /no default approvers/,
      ],
      [
        'three stages',
        'Approval_EndUser_Assignment',
        ({ user }) => {
          const stage = { primaryApprovers: [singleUser(user)] };
          const body = approvalRule([], [stage, stage, stage]);
          body.setting.approvalMode = 'Serial';
          return body;
        },
        /has 3 stages; Elevate supports one or two/,
      ],
      [
        'two stages without Serial',
        'Approval_EndUser_Assignment',
        ({ user }) => {
          const stage = { primaryApprovers: [singleUser(user)] };
          return approvalRule([], [stage, stage]);
        },
        /need setting\.approvalMode Serial/,
      ],
      [
        'parallel approval',
        'Approval_EndUser_Assignment',
        ({ user }) => {
          const body = approvalRule([singleUser(user)]);
          body.setting.approvalMode = 'Parallel';
          return body;
        },
        /'Parallel' is not supported/,
      ],
      [
        'a stage timeout beyond a week',
        'Approval_EndUser_Assignment',
        ({ user }) =>
          approvalRule(
            [],
            [{ approvalStageTimeOutInDays: 8, primaryApprovers: [singleUser(user)] }],
          ),
        /approvalStageTimeOutInDays must be a whole number from 1 to 7/,
      ],
      [
        'escalation',
        'Approval_EndUser_Assignment',
        ({ user }) =>
          approvalRule([], [{ isEscalationEnabled: true, primaryApprovers: [singleUser(user)] }]),
        /escalation is not supported/,
      ],
      [
        'an approver of an unsupported kind',
        'Approval_EndUser_Assignment',
        () =>
          approvalRule([{ '@odata.type': '#microsoft.graph.requestorManager', managerLevel: 1 }]),
        /not allowed: managerLevel|cannot be/,
      ],
      [
        'more than 25 approvers in a stage',
        'Approval_EndUser_Assignment',
        ({ user }) => approvalRule(Array.from({ length: 26 }, () => singleUser(user))),
        /more than 25 items/,
      ],
      [
        'a notification recipient that is not an email address',
        'Notification_Admin_Admin_Assignment',
        () => ({
          '@odata.type': NOTIFICATION,
          notificationRecipients: ['ops@example.com', 'not an address'],
        }),
        /notificationRecipients\[1\] 'not an address' is not an email address/,
      ],
      [
        'a notification level Graph does not have',
        'Notification_Admin_Admin_Assignment',
        () => ({ '@odata.type': NOTIFICATION, notificationLevel: 'Loud' }),
        /notificationLevel cannot be 'Loud'/,
      ],
      [
        'a recipient type of another rule',
        'Notification_Admin_Admin_Assignment',
        () => ({ '@odata.type': NOTIFICATION, recipientType: 'Requestor' }),
        /recipientType of Notification_Admin_Admin_Assignment is Admin/,
      ],
      [
        'an authentication context',
        'AuthenticationContext_EndUser_Assignment',
        () => ({ '@odata.type': AUTH_CONTEXT, isEnabled: true, claimValue: 'c1' }),
        /Authentication contexts are not supported/,
      ],
      [
        'a body that is not an object',
        'Expiration_EndUser_Assignment',
        () => [activationRule()],
        /JSON object/,
      ],
    ];

    for (const [what, ruleId, body, message] of cases) {
      it(`refuses ${what}`, async () => {
        const group = await elevate().createGroup();
        const approvers = await elevate().createGroup();
        const user = await elevate().createUser();
        const policyId = await policyIdOf(elevate(), group.id, 'member');
        const before = await getRule(elevate(), policyId, ruleId);

        const response = await patchRule(
          elevate(),
          policyId,
          ruleId,
          body({ user: user.id, group: approvers.id }),
        );

        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.match(response.body.error.message, message);
        assert.deepEqual(await getRule(elevate(), policyId, ruleId), before);
        assert.deepEqual(await policyRows(elevate(), group.id), []);
        assert.deepEqual(
          (await auditActivities(elevate(), group.id)).filter((e) => e.service === 'PIM'),
          [],
        );
      });
    }

    it('refuses an unknown approver with SubjectNotFound, also on an onboarded group', async () => {
      const group = await elevate().createGroup();
      const policyId = await policyIdOf(elevate(), group.id, 'member');
      await patchRule(elevate(), policyId, 'Expiration_EndUser_Assignment', activationRule());
      const before = await elevate().request('GET', `${POLICIES}/${policyId}?$expand=rules`);

      const response = await patchRule(
        elevate(),
        policyId,
        'Approval_EndUser_Assignment',
        approvalRule([singleUser('0b8f7a1e-0000-4000-8000-000000000003')]),
      );

      assertError(response, 400, 'SubjectNotFound');
      const after = await elevate().request('GET', `${POLICIES}/${policyId}?$expand=rules`);
      assert.deepEqual(after.body, before.body);
    });
  });

  it('answers 404 for unknown policies and rules', async () => {
    const group = await elevate().createGroup();
    const policyId = await policyIdOf(elevate(), group.id, 'member');
    const made = `Group_${group.id}_f21b26d9-9ff9-4af1-b1d4-bddf28591369`;

    assertError(await elevate().request('GET', `${POLICIES}/${made}`), 404, 'ResourceNotFound');
    assertError(
      await patchRule(elevate(), made, 'Expiration_EndUser_Assignment', activationRule()),
      404,
      'ResourceNotFound',
    );
    assertError(
      await elevate().request('GET', `${POLICIES}/${policyId}/rules/Expiration_Nobody`),
      404,
      'ResourceNotFound',
    );
    assertError(
      await patchRule(elevate(), policyId, 'Expiration_Nobody', activationRule()),
      404,
      'ResourceNotFound',
    );
    const deleted = await elevate().createGroup();
    const deletedPolicy = policyIdFor(deleted.id, 'owner');
    await elevate().request('DELETE', `/v1.0/groups/${deleted.id}`);
    assertError(
      await elevate().request('GET', `${POLICIES}/${deletedPolicy}`),
      404,
      'ResourceNotFound',
    );
  });

  describe('permissions', () => {
    it('lets members read, and refuses guests', async () => {
      const group = await elevate().createGroup();
      const member = await elevate().createUser();
      const guest = await elevate().createUser({ userType: 'Guest' });
      const policyId = policyIdFor(group.id, 'member');

      const read = await elevate().request('GET', `${POLICIES}?${scope(group.id)}`, { as: member });
      assert.equal(read.status, 200);
      assert.equal(read.body.value.length, 2);
      const one = await elevate().request('GET', `${POLICIES}/${policyId}`, { as: member });
      assert.equal(one.status, 200);

      const refused = await elevate().request('GET', `${POLICIES}?${scope(group.id)}`, {
        as: guest,
      });
      assertError(refused, 403, 'Authorization_RequestDenied');
      const refusedOne = await elevate().request('GET', `${POLICIES}/${policyId}`, { as: guest });
      assertError(refusedOne, 403, 'Authorization_RequestDenied');
    });

    it('refuses a plain member to change a policy', async () => {
      const group = await elevate().createGroup();
      const member = await elevate().createUser();
      const policyId = policyIdFor(group.id, 'member');

      const response = await patchRule(
        elevate(),
        policyId,
        'Expiration_EndUser_Assignment',
        activationRule(),
        member,
      );

      assertError(response, 403, 'Authorization_RequestDenied');
      assert.deepEqual(await policyRows(elevate(), group.id), []);
    });

    it('lets an active owner change the member policy but not the owner policy', async () => {
      const group = await elevate().createGroup();
      const owner = await elevate().createUser();
      await addOwner(elevate(), group.id, owner);

      const memberPolicy = await patchRule(
        elevate(),
        policyIdFor(group.id, 'member'),
        'Expiration_EndUser_Assignment',
        activationRule('PT4H'),
        owner,
      );
      const ownerPolicy = await patchRule(
        elevate(),
        policyIdFor(group.id, 'owner'),
        'Expiration_EndUser_Assignment',
        activationRule('PT4H'),
        owner,
      );

      assert.equal(memberPolicy.status, 204, JSON.stringify(memberPolicy.body));
      assertError(ownerPolicy, 403, 'Authorization_RequestDenied');
      const db = elevate().app.db.kysely;
      assert.equal(
        (await loadPolicy(db, group.id, 'member')).activation.maximumDurationMs,
        4 * HOUR,
      );
      assert.equal(
        (await loadPolicy(db, group.id, 'owner')).activation.maximumDurationMs,
        8 * HOUR,
      );

      const other = await elevate().createGroup();
      const elsewhere = await patchRule(
        elevate(),
        policyIdFor(other.id, 'member'),
        'Expiration_EndUser_Assignment',
        activationRule('PT4H'),
        owner,
      );
      assertError(elsewhere, 403, 'Authorization_RequestDenied');
    });

    it('lets a Groups Administrator change groups that cannot hold roles only', async () => {
      const plain = await elevate().createGroup();
      const privileged = await elevate().createGroup({ roleAssignable: true });
      const groupsAdmin = await elevate().createAdmin(RoleIds.groupsAdministrator);

      const allowed = await patchRule(
        elevate(),
        policyIdFor(plain.id, 'owner'),
        'Expiration_EndUser_Assignment',
        activationRule(),
        groupsAdmin,
      );
      const refused = await patchRule(
        elevate(),
        policyIdFor(privileged.id, 'member'),
        'Expiration_EndUser_Assignment',
        activationRule(),
        groupsAdmin,
      );

      assert.equal(allowed.status, 204, JSON.stringify(allowed.body));
      assertError(refused, 403, 'Authorization_RequestDenied');
      assert.deepEqual(await policyRows(elevate(), privileged.id), []);
    });

    it('lets a Privileged Role Administrator change a role-assignable group', async () => {
      const privileged = await elevate().createGroup({ roleAssignable: true });
      const admin = await elevate().createAdmin(RoleIds.privilegedRoleAdministrator);

      const response = await patchRule(
        elevate(),
        policyIdFor(privileged.id, 'owner'),
        'Expiration_EndUser_Assignment',
        activationRule(),
        admin,
      );

      assert.equal(response.status, 204, JSON.stringify(response.body));
      const events = await auditActivities(elevate(), privileged.id);
      assert.ok(
        events.some(
          (e) => e.activity === 'Update role setting in PIM' && e.initiatorId === admin.id,
        ),
      );
    });
  });

  it('lists policy assignments with the policy and its rules expanded', async () => {
    const group = await elevate().createGroup();

    const owner = await elevate().request(
      'GET',
      `${ASSIGNMENTS}?${scope(group.id, " and roleDefinitionId eq 'owner'")}` +
        '&$expand=policy($expand=rules)',
    );
    const both = await elevate().request('GET', `${ASSIGNMENTS}?${scope(group.id)}`);

    assert.equal(owner.status, 200, JSON.stringify(owner.body));
    assert.match(
      owner.body['@odata.context'],
      /#policies\/roleManagementPolicyAssignments\(policy\(rules\(\)\)\)$/,
    );
    assert.equal(owner.body.value.length, 1);
    const assignment = owner.body.value[0];
    const policyId = policyIdFor(group.id, 'owner');
    assert.equal(assignment.id, `${policyId}_owner`);
    assert.equal(assignment.policyId, policyId);
    assert.equal(assignment.scopeId, group.id);
    assert.equal(assignment.scopeType, 'Group');
    assert.equal(assignment.roleDefinitionId, 'owner');
    assert.equal(assignment.policy.id, policyId);
    assert.equal(assignment.policy.rules.length, 17);
    assert.equal(
      assignment.policy.rules.find((r: PolicyRule) => r.id === 'Expiration_Admin_Assignment')
        .maximumDuration,
      'P180D',
    );

    assert.deepEqual(
      both.body.value.map((a: { roleDefinitionId: string }) => a.roleDefinitionId),
      ['member', 'owner'],
    );
    assert.equal(both.body.value[0].policy, undefined);

    const single = await elevate().request(
      'GET',
      `${ASSIGNMENTS}/${assignment.id}?$expand=policy($expand=rules,effectiveRules)`,
    );
    assert.equal(single.status, 200, JSON.stringify(single.body));
    assert.equal(single.body.policy.effectiveRules.length, 17);
    assertError(
      await elevate().request('GET', `${ASSIGNMENTS}/${policyId}_member`),
      404,
      'ResourceNotFound',
    );

    const badRole = await elevate().request(
      'GET',
      `${ASSIGNMENTS}?${scope(group.id, " and roleDefinitionId eq 'reader'")}`,
    );
    assertError(badRole, 400, 'BadRequest');
  });

  it('gets one policy with rules and effective rules, and selects properties', async () => {
    const group = await elevate().createGroup();
    const policyId = policyIdFor(group.id, 'member');

    const expanded = await elevate().request(
      'GET',
      `${POLICIES}/${policyId}?$expand=rules,effectiveRules&$select=id,scopeId`,
    );
    const rule = await elevate().request(
      'GET',
      `${POLICIES}/${policyId}/rules/expiration_enduser_assignment?$select=maximumDuration`,
    );
    const effective = await elevate().request('GET', `${POLICIES}/${policyId}/effectiveRules`);

    assert.equal(expanded.status, 200, JSON.stringify(expanded.body));
    assert.deepEqual(Object.keys(expanded.body).sort(), [
      '@odata.context',
      'effectiveRules',
      'effectiveRules@odata.context',
      'id',
      'rules',
      'rules@odata.context',
      'scopeId',
    ]);
    assert.deepEqual(expanded.body.effectiveRules, expanded.body.rules);
    assert.equal(rule.status, 200, JSON.stringify(rule.body));
    assert.deepEqual(
      { ...rule.body, '@odata.context': undefined },
      {
        '@odata.context': undefined,
        '@odata.type': EXPIRATION,
        id: 'Expiration_EndUser_Assignment',
        maximumDuration: 'PT8H',
      },
    );
    assert.equal(effective.body.value.length, 17);
  });

  it('changes several rules at once through the policy, or none when one is invalid', async () => {
    const group = await elevate().createGroup();
    const policyId = policyIdFor(group.id, 'member');
    const enablement = {
      '@odata.type': ENABLEMENT,
      id: 'Enablement_EndUser_Assignment',
      enabledRules: ['MultiFactorAuthentication'],
    };

    const refused = await elevate().request('PATCH', `${POLICIES}/${policyId}`, {
      body: { rules: [enablement, activationRule('P3D')] },
    });
    assert.equal(refused.status, 400);
    assert.deepEqual(await policyRows(elevate(), group.id), []);

    const accepted = await elevate().request('PATCH', `${POLICIES}/${policyId}`, {
      body: { rules: [enablement, activationRule('PT3H')] },
    });
    assert.equal(accepted.status, 204, JSON.stringify(accepted.body));
    const view = await loadPolicy(elevate().app.db.kysely, group.id, 'member');
    assert.equal(view.activation.mfa, true);
    assert.equal(view.activation.justification, false);
    assert.equal(view.activation.maximumDurationMs, 3 * HOUR);

    const other = await elevate().request('PATCH', `${POLICIES}/${policyId}`, {
      body: { displayName: 'renamed' },
    });
    assertError(other, 400, 'BadRequest', /through its rules/);
  });

  it('onboards a group once when two changes race', async () => {
    const group = await elevate().createGroup();
    const policyId = policyIdFor(group.id, 'member');

    const responses = await Promise.all([
      patchRule(elevate(), policyId, 'Expiration_EndUser_Assignment', activationRule('PT2H')),
      patchRule(
        elevate(),
        policyIdFor(group.id, 'owner'),
        'Expiration_EndUser_Assignment',
        activationRule('PT3H'),
      ),
    ]);

    assert.deepEqual(
      responses.map((r) => r.status),
      [204, 204],
    );
    assert.equal((await policyRows(elevate(), group.id)).length, 2);
    const onboarded = (await auditActivities(elevate(), group.id)).filter(
      (e) => e.activity === 'Onboarded resource to PIM',
    );
    assert.equal(onboarded.length, 1);
    const db = elevate().app.db.kysely;
    assert.equal((await loadPolicy(db, group.id, 'member')).activation.maximumDurationMs, 2 * HOUR);
    assert.equal((await loadPolicy(db, group.id, 'owner')).activation.maximumDurationMs, 3 * HOUR);
  });
});
