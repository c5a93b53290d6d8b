import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import * as directory from './migrations/0001_directory.js';
import * as pim from './migrations/0002_pim.js';
import * as approvals from './migrations/0003_approvals.js';
import * as jobs from './migrations/0004_jobs.js';
import * as outbox from './migrations/0005_outbox.js';
import * as performanceIndexes from './migrations/0006_performance.js';
import * as readIndexes from './migrations/0007_read_indexes.js';

/** Every migration in order. Names sort in the order they must run. */
const migrations: Record<string, Migration> = {
  '0001_directory': directory,
  '0002_pim': pim,
  '0003_approvals': approvals,
  '0004_jobs': jobs,
  '0005_outbox': outbox,
  '0006_performance': performanceIndexes,
  '0007_read_indexes': readIndexes,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

/** Brings the schema up to date; each migration runs in its own transaction. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one to use, so a
  // database holding several Elevate schemas (as the test suite's does) would confuse it.
  const schema = db.dialect === 'postgres' ? await currentSchema(db) : undefined;
  const migrator = new Migrator({
    db: db.kysely,
    provider,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error instanceof Error) throw error;
  if (error) throw new Error('A migration failed', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

async function currentSchema(db: Db): Promise<string> {
  const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(
    db.kysely,
  );
  const schema = result.rows[0]?.schema;
  if (!schema) throw new Error('PostgreSQL has no current schema: check the search_path.');
  return schema;
}
