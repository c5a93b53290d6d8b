import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Db, type DialectName } from '../../src/db/database.js';

/** A fresh, empty database of one dialect, and how to throw it away. */
export interface TestDatabase {
  db: Db;
  url: string;
  schema: string | undefined;
  drop(): Promise<void>;
}

export interface DatabaseTarget {
  name: DialectName;
  create(): Promise<TestDatabase>;
}

const sqlite: DatabaseTarget = {
  name: 'sqlite',
  async create() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-test-'));
    const url = `sqlite:${path.join(dir, 'elevate.db')}`;
    const db = await openDatabase(url);
    return {
      db,
      url,
      schema: undefined,
      async drop() {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgres(url: string): DatabaseTarget {
  return {
    name: 'postgres',
    async create() {
      // Each test database is a schema of its own, so that test files can run in parallel on one
      // PostgreSQL database without seeing each other's rows.
      const schema = `t_${randomBytes(8).toString('hex')}`;
      await adminQuery(url, `create schema ${schema}`);
      const db = await openDatabase(url, { schema });
      return {
        db,
        url,
        schema,
        async drop() {
          await db.close();
          await adminQuery(url, `drop schema ${schema} cascade`);
        },
      };
    },
  };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** SQLite always; PostgreSQL too when ELEVATE_TEST_DATABASE_URL names one, as in CI. */
export const databaseTargets: DatabaseTarget[] = [
  sqlite,
  ...(process.env.ELEVATE_TEST_DATABASE_URL
    ? [postgres(process.env.ELEVATE_TEST_DATABASE_URL)]
    : []),
];
