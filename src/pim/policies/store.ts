import type { Kysely } from 'kysely';
import { boundText, prepared } from '../../db/prepared.js';
import type { AccessId, Database } from '../../db/schema.js';
import { slices } from '../../db/slices.js';
import { defaultRule, defaultRules } from './defaults.js';
import { policyIdFor } from './ids.js';
import { RULE_IDS, type PolicyRule, type PolicyView, type RuleId } from './model.js';
import { policyViewOf } from './view-cache.js';

type Db = Kysely<Database>;

export const ACCESS_IDS: readonly AccessId[] = ['member', 'owner'];

/** One of a group's two policies with all 17 rules, in the order Graph lists them. */
export interface StoredPolicy {
  id: string;
  groupId: string;
  accessId: AccessId;
  /** False until the group is onboarded; until then the policy is its defaults. */
  onboarded: boolean;
  lastModifiedAt: string | null;
  lastModifiedBy: { id: string; displayName: string | null } | null;
  rules: PolicyRule[];
}

/**
 * Creates the group's two policies with the default rules if they do not exist yet, and answers
 * whether it created them. `db` may be a transaction.
 */
export async function ensurePolicies(db: Db, groupId: string): Promise<boolean> {
  let created = false;

  for (const accessId of ACCESS_IDS) {
    const id = policyIdFor(groupId, accessId);
    // When two transactions onboard the same group at once, the unique (group_id, access_id) and
    // the primary key let one insert; the other inserts nothing and finds the winner's rows.
    const inserted = await db
      .insertInto('pim_policies')
      .values({
        id,
        group_id: groupId.toLowerCase(),
        access_id: accessId,
        last_modified_at: null,
        last_modified_by: null,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .execute();
    if (inserted.length === 0) continue;

    await db
      .insertInto('pim_policy_rules')
      .values(
        defaultRules().map((rule) => ({
          policy_id: id,
          rule_id: rule.id,
          rule: JSON.stringify(rule),
        })),
      )
      .execute();
    created = true;
  }

  return created;
}

/**
 * The settings of the group's member or owner policy. It writes nothing: for a group not
 * onboarded yet it answers the defaults, under the id the policy will keep once it is. To onboard
 * the group, with its audit event, call `PolicyService.onboard` in the same transaction.
 */
export async function loadPolicy(db: Db, groupId: string, accessId: AccessId): Promise<PolicyView> {
  const row = await db
    .selectFrom('pim_policies')
    .select('id')
    .where('group_id', '=', groupId.toLowerCase())
    .where('access_id', '=', accessId)
    .executeTakeFirst();
  return loadPolicyRules(db, groupId, accessId, row?.id);
}

/**
 * The settings of a policy whose row the caller has already found: `policyId` is the stored
 * policy's id, or undefined before onboarding, when the policy is its defaults.
 */
export async function loadPolicyRules(
  db: Db,
  groupId: string,
  accessId: AccessId,
  policyId: string | undefined,
): Promise<PolicyView> {
  const group = groupId.toLowerCase();
  const rows = policyId === undefined ? [] : (await rulesOf(db, { policyId })).rows;

  // A rule missing from the table counts as its default, as in `findPolicies`.
  const id = policyId ?? policyIdFor(group, accessId);
  return policyViewOf(
    { policyId: id, groupId: group, accessId },
    rows.map((row) => row.rule),
  );
}

/**
 * The settings of many groups' policies, read together, as `loadPolicy` answers each one: for
 * work about many groups at once, such as a jobs batch. Keyed by `policyKey`.
 */
export async function loadPolicies(
  db: Db,
  wanted: readonly { groupId: string; accessId: AccessId }[],
): Promise<Map<string, PolicyView>> {
  const groups = [...new Set(wanted.map((w) => w.groupId.toLowerCase()))];
  const policyIds = new Map<string, string>();
  const texts = new Map<string, string[]>();
  for (const slice of slices(groups)) {
    const policies = await db
      .selectFrom('pim_policies')
      .select(['id', 'group_id', 'access_id'])
      .where('group_id', 'in', slice)
      .execute();
    for (const row of policies) policyIds.set(policyKey(row.group_id, row.access_id), row.id);
  }
  for (const slice of slices([...policyIds.values()])) {
    const rules = await db
      .selectFrom('pim_policy_rules')
      .select(['policy_id', 'rule'])
      .where('policy_id', 'in', slice)
      // Each policy's rules in the order `loadPolicyRules` reads them.
      .orderBy('policy_id')
      .orderBy('rule_id')
      .execute();
    for (const row of rules) {
      const list = texts.get(row.policy_id) ?? [];
      list.push(row.rule);
      texts.set(row.policy_id, list);
    }
  }

  const views = new Map<string, PolicyView>();
  for (const { groupId, accessId } of wanted) {
    const group = groupId.toLowerCase();
    const policyId = policyIds.get(policyKey(group, accessId));
    const id = policyId ?? policyIdFor(group, accessId);
    const rules = policyId === undefined ? [] : (texts.get(policyId) ?? []);
    views.set(
      policyKey(group, accessId),
      policyViewOf({ policyId: id, groupId: group, accessId }, rules),
    );
  }
  return views;
}

/** The key of a group's member or owner policy in the answer of `loadPolicies`. */
export function policyKey(groupId: string, accessId: AccessId): string {
  return `${groupId.toLowerCase()}:${accessId}`;
}

const rulesOf = prepared<{ policyId: string }, { rule: string }>((db, arg) =>
  db
    .selectFrom('pim_policy_rules')
    .select('rule')
    .where('policy_id', '=', boundText(arg('policyId')))
    // In a stable order, so that unchanged rules read as the same text every time.
    .orderBy('rule_id'),
);

export async function findPolicy(
  db: Db,
  groupId: string,
  accessId: AccessId,
): Promise<StoredPolicy> {
  const policies = await findPolicies(db, groupId);
  const policy = policies.find((candidate) => candidate.accessId === accessId);
  if (!policy) throw new Error(`The ${accessId} policy of group ${groupId} is missing.`);
  return policy;
}

/** Both policies of a group, member then owner, stored or, before onboarding, the defaults. */
export async function findPolicies(db: Db, groupId: string): Promise<StoredPolicy[]> {
  const group = groupId.toLowerCase();
  const rows = await db
    .selectFrom('pim_policies')
    .leftJoin('users', 'users.id', 'pim_policies.last_modified_by')
    .select([
      'pim_policies.id',
      'pim_policies.access_id',
      'pim_policies.last_modified_at',
      'pim_policies.last_modified_by',
      'users.display_name',
    ])
    .where('pim_policies.group_id', '=', group)
    .execute();
  const ruleRows =
    rows.length === 0
      ? []
      : await db
          .selectFrom('pim_policy_rules')
          .select(['policy_id', 'rule_id', 'rule'])
          .where(
            'policy_id',
            'in',
            rows.map((row) => row.id),
          )
          .execute();

  return ACCESS_IDS.map((accessId) => {
    const row = rows.find((candidate) => candidate.access_id === accessId);
    if (!row) {
      return {
        id: policyIdFor(group, accessId),
        groupId: group,
        accessId,
        onboarded: false,
        lastModifiedAt: null,
        lastModifiedBy: null,
        rules: defaultRules(),
      };
    }

    // Rules are JSON that this module wrote after validating it. A rule missing from the table
    // counts with its default, so a rule that a later version adds needs no migration.
    const stored = new Map(
      ruleRows
        .filter((rule) => rule.policy_id === row.id)
        .map((rule) => [rule.rule_id, JSON.parse(rule.rule) as PolicyRule]),
    );
    return {
      id: row.id,
      groupId: group,
      accessId,
      onboarded: true,
      lastModifiedAt: row.last_modified_at,
      lastModifiedBy: row.last_modified_by
        ? { id: row.last_modified_by, displayName: row.display_name }
        : null,
      rules: RULE_IDS.map((id: RuleId) => stored.get(id) ?? defaultRule(id)),
    };
  });
}

/** Replaces one rule of an onboarded policy and records who changed the policy, and when. */
export async function saveRule(
  db: Db,
  policyId: string,
  rule: PolicyRule,
  modifiedAt: string,
  modifiedBy: string,
): Promise<void> {
  const json = JSON.stringify(rule);
  const updated = await db
    .updateTable('pim_policy_rules')
    .set({ rule: json })
    .where('policy_id', '=', policyId)
    .where('rule_id', '=', rule.id)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    await db
      .insertInto('pim_policy_rules')
      .values({ policy_id: policyId, rule_id: rule.id, rule: json })
      .execute();
  }

  await db
    .updateTable('pim_policies')
    .set({ last_modified_at: modifiedAt, last_modified_by: modifiedBy })
    .where('id', '=', policyId)
    .execute();
}

/** Display names of the users and groups among the ids that exist, by id. */
export async function findPrincipals(
  db: Db,
  userIds: readonly string[],
  groupIds: readonly string[],
): Promise<{ users: Map<string, string>; groups: Map<string, string> }> {
  const users =
    userIds.length === 0
      ? []
      : await db
          .selectFrom('users')
          .select(['id', 'display_name'])
          .where('id', 'in', userIds)
          .execute();
  const groups =
    groupIds.length === 0
      ? []
      : await db
          .selectFrom('groups')
          .select(['id', 'display_name'])
          .where('id', 'in', groupIds)
          .execute();
  return {
    users: new Map(users.map((user) => [user.id, user.display_name])),
    groups: new Map(groups.map((group) => [group.id, group.display_name])),
  };
}

export async function isMemberUser(db: Db, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('user_type')
    .where('id', '=', userId)
    .executeTakeFirst();
  return row?.user_type === 'Member';
}
