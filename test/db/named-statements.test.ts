import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest } from '../../src/db/migrate.js';
import { AccessService } from '../../src/directory/access.js';
import { SystemClock } from '../../src/shared/clock.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

// Names matter only to PostgreSQL, which keeps named statements prepared per connection.
for (const target of databaseTargets.filter((t) => t.name === 'postgres')) {
  describe(`statements compiled once [${target.name}]`, () => {
    let database: TestDatabase;
    const access = () => new AccessService(database.db.kysely, new SystemClock());

    before(async () => {
      database = await target.create();
      await migrateToLatest(database.db);
      await database.db.kysely
        .insertInto('role_definitions')
        .values(
          ['reader', 'writer'].map((id) => ({
            id,
            display_name: id,
            description: id,
            is_built_in: 0,
            is_enabled: 1,
            template_id: id,
          })),
        )
        .execute();
      // Eight users, user i holding the reader role if i is even and the writer role if i > 4.
      const assignments = Array.from({ length: 8 }, (_, i) => [
        ...(i % 2 === 0 ? [{ user: i, role: 'reader' }] : []),
        ...(i > 4 ? [{ user: i, role: 'writer' }] : []),
      ]).flat();
      await database.db.kysely
        .insertInto('role_assignments')
        .values(
          assignments.map(({ user, role }) => ({
            id: `${user}-${role}`,
            role_definition_id: role,
            principal_id: `user-${user}`,
            directory_scope_id: '/',
            created_at: new Date().toISOString(),
          })),
        )
        .execute();
    });

    after(() => database.drop());

    it('are prepared under a name of their own on the connection that runs them', async () => {
      const prepared = await database.db.kysely.connection().execute(async (connection) => {
        await access().roleIdsOf('user-0', connection);
        await connection.selectFrom('users').selectAll().where('id', '=', 'user-0').execute();
        return (
          await sql<{ name: string; statement: string }>`
            select name, statement from pg_prepared_statements
          `.execute(connection)
        ).rows;
      });

      assert.equal(prepared.length, 1);
      assert.match(prepared[0]?.name ?? '', /^elevate_\d+$/);
      assert.match(
        prepared[0]?.statement ?? '',
        /select "role_definition_id" from "role_assignments"/,
      );
    });

    it('answer each run with its own values, past the runs PostgreSQL plans afresh', async () => {
      const answers = await database.db.kysely.connection().execute(async (connection) => {
        const service = access();
        const held: string[][] = [];
        for (let i = 0; i < 8; i++) {
          held.push([...(await service.roleIdsOf(`user-${i}`, connection))].sort());
        }
        return held;
      });

      assert.deepEqual(answers, [
        ['reader'],
        [],
        ['reader'],
        [],
        ['reader'],
        ['writer'],
        ['reader', 'writer'],
        ['writer'],
      ]);
    });
  });
}
