import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import * as directory from './migrations/0001_directory.js';
import * as pim from './migrations/0002_pim.js';
import * as approvals from './migrations/0003_approvals.js';

/** Every migration in order. Names sort in the order they must run. */
const migrations: Record<string, Migration> = {
  '0001_directory': directory,
  '0002_pim': pim,
  '0003_approvals': approvals,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

/** Brings the schema up to date; each migration runs in its own transaction. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db: db.kysely, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error instanceof Error) throw error;
  if (error) throw new Error('A migration failed', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
