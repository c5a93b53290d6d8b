import { createHash } from 'node:crypto';
import type { AccessId } from '../../db/schema.js';
import { isGuid } from '../../shared/ids.js';

const ACCESS_IDS: readonly AccessId[] = ['member', 'owner'];

// A fixed namespace for the name-based GUIDs below; changing it would change every policy id.
const NAMESPACE = Buffer.from('89d7ad6220b54dd2aaa20b6ee46dc5ae', 'hex');

/**
 * The id of a group's member or owner policy, `Group_{groupId}_{guid}` as in Graph. The guid is
 * derived from the group and the access (an RFC 4122 version 5 GUID), so a policy has the same id
 * before its group is onboarded, when it is shown with the defaults, and after: a client can read
 * the id and change the policy before anyone is made eligible.
 */
export function policyIdFor(groupId: string, accessId: AccessId): string {
  return `Group_${groupId.toLowerCase()}_${nameBasedGuid(`${groupId.toLowerCase()}/${accessId}`)}`;
}

/** The group and access of a policy id, or null when no group policy has that id. */
export function parsePolicyId(policyId: string): { groupId: string; accessId: AccessId } | null {
  const match = /^Group_([0-9a-f-]{36})_([0-9a-f-]{36})$/i.exec(policyId);
  const groupId = match?.[1]?.toLowerCase();
  const guid = match?.[2]?.toLowerCase();
  if (!groupId || !guid || !isGuid(groupId)) return null;

  const given = `Group_${groupId}_${guid}`;
  const accessId = ACCESS_IDS.find((access) => policyIdFor(groupId, access) === given);
  return accessId ? { groupId, accessId } : null;
}

/** A policy assignment id is its policy's id and the access, as Graph writes them. */
export function policyAssignmentIdFor(groupId: string, accessId: AccessId): string {
  return `${policyIdFor(groupId, accessId)}_${accessId}`;
}

export function parsePolicyAssignmentId(
  assignmentId: string,
): { groupId: string; accessId: AccessId } | null {
  const cut = assignmentId.lastIndexOf('_');
  const policy = cut === -1 ? null : parsePolicyId(assignmentId.slice(0, cut));
  const suffix = assignmentId.slice(cut + 1).toLowerCase();
  return policy && policy.accessId === suffix ? policy : null;
}

function nameBasedGuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6);
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);

  const hex = hash.toString('hex');
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20),
  ].join('-');
}
