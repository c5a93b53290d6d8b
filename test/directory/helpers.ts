import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Response, TestElevate } from '../support/elevate.js';

/** A short tag that keeps one test's names apart from every other test's on a shared instance. */
export function uniqueTag(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** The reference body of `POST .../members/$ref`, as a Graph client writes it. */
export function reference(id: string): { '@odata.id': string } {
  return { '@odata.id': `http://x/v1.0/directoryObjects/${id}` };
}

/**
 * Audit events naming the target, read straight from the table, in a stable order: events of one
 * instant (the fake clock stands still) are sorted by activity, not by when they were written.
 */
export async function auditEventsFor(elevate: TestElevate, targetId: string) {
  return elevate.app.db.kysely
    .selectFrom('audit_events')
    .innerJoin('audit_targets', 'audit_targets.audit_event_id', 'audit_events.id')
    .select([
      'audit_events.activity_display_name as activity',
      'audit_events.category',
      'audit_events.result',
      'audit_events.initiator_id as initiatorId',
      'audit_events.target_resources as targets',
    ])
    .where('audit_targets.target_id', '=', targetId)
    .orderBy('audit_events.activity_date_time')
    .orderBy('audit_events.activity_display_name')
    .execute();
}

export async function countRows(
  elevate: TestElevate,
  table: 'users' | 'groups' | 'group_members' | 'role_assignments' | 'audit_events',
): Promise<number> {
  const row = await elevate.app.db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Asserts a Graph-shaped error with the status and code. */
export function assertGraphError(response: Response, status: number, code?: string): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(typeof response.body?.error?.message, 'string');
  assert.ok(response.body.error.innerError?.['request-id'], 'error carries a request-id');
  if (code) assert.equal(response.body.error.code, code);
}

/**
 * Runs a request that must be refused, and asserts that it answered the error and that it
 * changed no row in the directory's tables nor wrote an audit event.
 */
export async function assertRefusedWithoutChange(
  elevate: TestElevate,
  send: () => Promise<Response>,
  status: number,
  code?: string,
): Promise<Response> {
  const tables = ['users', 'groups', 'group_members', 'role_assignments', 'audit_events'] as const;
  const before = await Promise.all(tables.map((table) => countRows(elevate, table)));

  const response = await send();

  assertGraphError(response, status, code);
  const after = await Promise.all(tables.map((table) => countRows(elevate, table)));
  assert.deepEqual(
    Object.fromEntries(tables.map((table, i) => [table, after[i]])),
    Object.fromEntries(tables.map((table, i) => [table, before[i]])),
  );
  return response;
}
