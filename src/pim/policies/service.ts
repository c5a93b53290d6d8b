import type { Kysely } from 'kysely';
import type { Actor, AuditEvent, AuditLog } from '../../audit/audit-log.js';
import type { Db } from '../../db/database.js';
import type { AccessId, Database } from '../../db/schema.js';
import type { PimPermissions } from '../permissions.js';
import type { CallerActor } from '../../directory/service.js';
import { findGroup, type GroupRow } from '../../directory/store.js';
import type { Caller } from '../../http/caller.js';
import type { Clock } from '../../shared/clock.js';
import { PolicyErrors } from './errors.js';
import { parsePolicyAssignmentId, parsePolicyId, policyIdFor } from './ids.js';
import { RULE_TYPES, SINGLE_USER, findRuleId, type PolicyRule, type SubjectSet } from './model.js';
import {
  ensurePolicies,
  findPolicies,
  findPolicy,
  findPrincipals,
  isMemberUser,
  saveRule,
  type StoredPolicy,
} from './store.js';
import { readRuleUpdate } from './validate.js';

/**
 * The member and owner policies of each group: reading them, changing their rules, and onboarding
 * a group to PIM. Every change is checked against the caller's rights as they are now and written
 * in one transaction with its audit event.
 */
export class PolicyService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly permissions: PimPermissions,
  ) {}

  /**
   * Onboards the group to PIM, in the caller's transaction: creates its two policies with the
   * default rules unless they exist, and then records "Onboarded resource to PIM". Answers
   * whether it onboarded the group just now.
   */
  async onboard(trx: Kysely<Database>, actor: Actor, groupId: string): Promise<boolean> {
    if (!(await ensurePolicies(trx, groupId))) return false;

    const group = await findGroup(trx, groupId);
    await this.audit.record(trx, actor, {
      category: 'GroupManagement',
      service: 'PIM',
      activity: 'Onboarded resource to PIM',
      operationType: 'Add',
      result: 'success',
      targets: [{ id: groupId.toLowerCase(), type: 'Group', displayName: group?.display_name }],
      details: {
        memberPolicyId: policyIdFor(groupId, 'member'),
        ownerPolicyId: policyIdFor(groupId, 'owner'),
      },
    });
    return true;
  }

  // Reading

  /** Both policies of a group, member then owner; a group not onboarded shows its defaults. */
  async listPolicies(actor: CallerActor, groupId: string): Promise<StoredPolicy[]> {
    await this.requireReader(actor.caller);

    const group = await this.requireGroup(this.db.kysely, groupId);
    return findPolicies(this.db.kysely, group.id);
  }

  async getPolicy(actor: CallerActor, policyId: string): Promise<StoredPolicy> {
    await this.requireReader(actor.caller);

    const target = parsePolicyId(policyId);
    if (!target) throw PolicyErrors.policyNotFound(policyId);
    const group = await findGroup(this.db.kysely, target.groupId);
    if (!group) throw PolicyErrors.policyNotFound(policyId);
    return findPolicy(this.db.kysely, group.id, target.accessId);
  }

  async getRule(actor: CallerActor, policyId: string, ruleId: string): Promise<PolicyRule> {
    const policy = await this.getPolicy(actor, policyId);
    return ruleOf(policy, ruleId);
  }

  /** The policy of a policy assignment `{policyId}_{member|owner}`. */
  async getPolicyOfAssignment(actor: CallerActor, assignmentId: string): Promise<StoredPolicy> {
    await this.requireReader(actor.caller);

    const target = parsePolicyAssignmentId(assignmentId);
    const group = target ? await findGroup(this.db.kysely, target.groupId) : undefined;
    if (!target || !group) throw PolicyErrors.policyAssignmentNotFound(assignmentId);
    return findPolicy(this.db.kysely, group.id, target.accessId);
  }

  // Changing

  /** Changes one rule; the body is Graph's rule, checked strictly against the rule's type. */
  async updateRule(
    actor: CallerActor,
    policyId: string,
    ruleId: string,
    body: unknown,
  ): Promise<void> {
    await this.updateRules(actor, policyId, [{ ruleId, body }]);
  }

  /**
   * Changes several rules of one policy at once, as `PATCH .../roleManagementPolicies/{id}` with
   * `{"rules": [...]}` does: every rule is checked before any is written.
   */
  async updatePolicy(actor: CallerActor, policyId: string, body: unknown): Promise<void> {
    const rules = readPolicyBody(body);
    await this.updateRules(
      actor,
      policyId,
      rules.map((rule, index) => ({ ruleId: ruleIdIn(rule, index), body: rule })),
    );
  }

  private async updateRules(
    actor: CallerActor,
    policyId: string,
    changes: { ruleId: string; body: unknown }[],
  ): Promise<void> {
    const target = parsePolicyId(policyId);
    if (!target) throw PolicyErrors.policyNotFound(policyId);

    await this.db.kysely.transaction().execute(async (trx) => {
      const group = await findGroup(trx, target.groupId);
      if (!group) throw PolicyErrors.policyNotFound(policyId);
      await this.requireChanger(trx, actor.caller, group, target.accessId);

      const policy = await findPolicy(trx, group.id, target.accessId);
      const rules: PolicyRule[] = [];
      for (const change of changes) {
        const current = ruleOf(policy, change.ruleId);
        const rule = await this.nameApprovers(trx, readRuleUpdate(current, change.body));
        policy.rules = policy.rules.map((old) => (old.id === rule.id ? rule : old));
        rules.push(rule);
      }

      await this.onboard(trx, actor, group.id);
      const now = this.clock.now().toISOString();
      for (const rule of rules) {
        await saveRule(trx, policy.id, rule, now, actor.caller.userId);
        await this.audit.record(trx, actor, ruleEvent(group, policy, rule));
      }
    });
  }

  /**
   * Approvers must exist. Those given without a description are described by their display name,
   * as Entra does, so that the rule reads well without another lookup.
   */
  private async nameApprovers(db: Kysely<Database>, rule: PolicyRule): Promise<PolicyRule> {
    if (rule['@odata.type'] !== RULE_TYPES.Approval) return rule;

    const subjects = rule.setting.approvalStages.flatMap((stage) => stage.primaryApprovers);
    const userIds = subjects.flatMap((s) => (s['@odata.type'] === SINGLE_USER ? [s.userId] : []));
    const groupIds = subjects.flatMap((s) => (s['@odata.type'] === SINGLE_USER ? [] : [s.groupId]));
    const found = await findPrincipals(db, userIds, groupIds);

    const named = (subject: SubjectSet): SubjectSet => {
      const user = subject['@odata.type'] === SINGLE_USER;
      const id = user ? subject.userId : subject.groupId;
      const name = (user ? found.users : found.groups).get(id);
      if (name === undefined) throw PolicyErrors.approverNotFound(id);
      return { ...subject, description: subject.description ?? name };
    };

    const approvalStages = rule.setting.approvalStages.map((stage) => ({
      ...stage,
      primaryApprovers: stage.primaryApprovers.map(named),
    }));
    return { ...rule, setting: { ...rule.setting, approvalStages } };
  }

  // Permissions

  /** Any member of the organisation may read policies; guests may not. */
  private async requireReader(caller: Caller): Promise<void> {
    if (!(await isMemberUser(this.db.kysely, caller.userId))) throw PolicyErrors.membersOnly();
  }

  /**
   * Global and Privileged Role Administrators change every policy; Groups Administrators the
   * policies of groups that cannot hold roles; an active owner the group's member policy.
   */
  private async requireChanger(
    db: Kysely<Database>,
    caller: Caller,
    group: GroupRow,
    accessId: AccessId,
  ): Promise<void> {
    if (!(await this.permissions.canManage(caller, group, accessId, db))) {
      throw PolicyErrors.notAllowedToChange(accessId);
    }
  }

  private async requireGroup(db: Kysely<Database>, groupId: string): Promise<GroupRow> {
    const group = await findGroup(db, groupId);
    if (!group) throw PolicyErrors.groupNotFound(groupId);
    return group;
  }
}

function ruleOf(policy: StoredPolicy, ruleId: string): PolicyRule {
  const id = findRuleId(ruleId);
  const rule = id && policy.rules.find((candidate) => candidate.id === id);
  if (!rule) throw PolicyErrors.ruleNotFound(ruleId);
  return rule;
}

function readPolicyBody(body: unknown): unknown[] {
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : null;
  const keys = fields ? Object.keys(fields).filter((key) => !key.startsWith('@odata.')) : [];
  const rules: unknown = fields ? Reflect.get(fields, 'rules') : undefined;
  if (!fields || keys.some((key) => key !== 'rules') || !Array.isArray(rules)) {
    throw PolicyErrors.policyBodyInvalid();
  }
  if (rules.length === 0 || rules.length > 17) throw PolicyErrors.policyBodyInvalid();
  return rules;
}

function ruleIdIn(rule: unknown, index: number): string {
  const id: unknown =
    typeof rule === 'object' && rule !== null ? Reflect.get(rule, 'id') : undefined;
  if (typeof id !== 'string') throw PolicyErrors.ruleIdRequired(index);
  return id;
}

function ruleEvent(group: GroupRow, policy: StoredPolicy, rule: PolicyRule): AuditEvent {
  // The setting without the parts every rule of its kind shares, which say nothing new.
  const setting = Object.fromEntries(
    Object.entries(rule).filter(([key]) => !['@odata.type', 'id', 'target'].includes(key)),
  );
  return {
    category: 'GroupManagement',
    service: 'PIM',
    activity: 'Update role setting in PIM',
    operationType: 'Update',
    result: 'success',
    targets: [
      { id: group.id, type: 'Group', displayName: group.display_name },
      { id: policy.id, type: 'Policy', displayName: `${policy.accessId} policy` },
    ],
    details: { ruleId: rule.id, accessId: policy.accessId, setting: JSON.stringify(setting) },
  };
}
