import type { AccessId } from '../../db/schema.js';
import type { PolicyRule, PolicyView } from './model.js';
import { toPolicyView } from './view.js';

/** Policies kept at most, about 10 KB each; the least recently used one makes room. */
const MAX_POLICIES = 1000;

interface Entry {
  texts: readonly string[];
  view: PolicyView;
}

const views = new Map<string, Entry>();

/**
 * The view of a policy from the text of its stored rules, as just read from the database. Every
 * request still reads the rules; what it is spared is their parse (JSON, durations) when the text
 * is exactly what it was. The comparison is with the text itself, not with a version or a time, so
 * a rule changed by this instance, by another one sharing the database, or twice within one
 * millisecond, can never be answered with the view of its old text: this cannot make a decision
 * wrong. Views are frozen, since every request shares them.
 */
export function policyViewOf(
  policy: { policyId: string; groupId: string; accessId: AccessId },
  texts: readonly string[],
): PolicyView {
  const key = `${policy.policyId}:${policy.groupId}:${policy.accessId}`;
  const entry = views.get(key);
  if (entry && sameTexts(entry.texts, texts)) {
    // Used last, so evicted last.
    views.delete(key);
    views.set(key, entry);
    return entry.view;
  }

  // Rules are JSON that the policy store wrote after validating it.
  const rules = texts.map((text) => JSON.parse(text) as PolicyRule);
  const view = deepFreeze(toPolicyView(policy, rules));
  views.delete(key);
  views.set(key, { texts, view });
  if (views.size > MAX_POLICIES) {
    const oldest = views.keys().next();
    if (!oldest.done) views.delete(oldest.value);
  }
  return view;
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((text, i) => text === b[i]);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
