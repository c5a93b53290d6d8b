import fs from 'node:fs';
import path from 'node:path';
import {
  Kysely,
  PostgresDialect,
  type PostgresCursor,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import type pg from 'pg';
import { BACKSTOP_PAGES, Checkpointer } from './checkpointer.js';
import { statementName } from './prepared.js';
import type { Database } from './schema.js';
import { immediateSqliteDialect } from './sqlite-dialect.js';

export type DialectName = 'sqlite' | 'postgres';

/** An open database: the Kysely instance and which dialect it speaks. */
export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL only: the schema to work in, so that test runs can share one database. */
  schema?: string;
}

// Each driver is imported only when its database is opened: a server uses one of the two, and the
// other would cost start-up time and resident memory for nothing.
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Db> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  return openPostgres(url, options.schema);
}

async function openSqlite(file: string): Promise<Db> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });

  const { default: SqliteDatabase } = await import('better-sqlite3');
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 15000');
  sqlite.pragma('foreign_keys = ON');
  // Bounded page cache, so that a large database does not grow the process without limit. 16 MiB
  // holds the inner pages of the indexes the reads use; a leaf page that is not cached comes from
  // the operating system's file cache for a system call. On the full benchmark dataset, going
  // from 64 MiB to 16 MiB took 20 MiB off the resident memory under load and changed neither
  // the reads' CPU per request nor their latency beyond the noise. Going from 32 MiB to 16 MiB
  // made room for the checkpoint thread (about 12 MiB) and left activations as fast as before.
  sqlite.pragma('cache_size = -16384');

  if (file === ':memory:') {
    const kysely = new Kysely<Database>({ dialect: immediateSqliteDialect(sqlite) });
    return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
  }

  // Checkpoints run on a thread of their own, off the event loop (see Checkpointer).
  sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const checkpointer = new Checkpointer(path.resolve(file));
  const dialect = immediateSqliteDialect(sqlite, { onCommit: () => checkpointer.afterCommit() });
  const kysely = new Kysely<Database>({ dialect });
  return {
    kysely,
    dialect: 'sqlite',
    async close() {
      await kysely.destroy();
      await checkpointer.close();
    },
  };
}

async function openPostgres(url: string, schema: string | undefined): Promise<Db> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: naming(pool) }) });
  return { kysely, dialect: 'postgres', close: () => kysely.destroy() };
}

/**
 * The pool as Kysely sees it, with the statements compiled once sent under their names. Kysely
 * sends every statement unnamed, which PostgreSQL parses and plans on every run; planning the
 * effective-roles statement took longer than running it. A named statement is prepared once per
 * connection and its later runs only bind values. PostgreSQL still plans a prepared statement
 * afresh for each of its first five runs and keeps a generic plan only if that costs no more.
 */
function naming(pool: pg.Pool): PostgresPool {
  return {
    connect: async () => new NamingClient(await pool.connect()),
    end: () => pool.end(),
  };
}

class NamingClient implements PostgresPoolClient {
  constructor(private readonly client: pg.PoolClient) {}

  query<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sql: string | PostgresCursor<R>,
    parameters: readonly unknown[] = [],
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Kysely passes a cursor only to stream, which needs a cursor class this dialect is not given.
    if (typeof sql !== 'string') throw new Error('Streaming from PostgreSQL is not configured');
    return this.run(sql, parameters);
  }

  private async run<R>(sql: string, parameters: readonly unknown[]) {
    const query = { name: statementName(sql), text: sql, values: [...parameters] };
    const { command, rowCount, rows } = await this.client.query(query);
    return {
      command: command as PostgresQueryResult<R>['command'],
      rowCount: rowCount ?? 0,
      rows: rows as R[],
    };
  }

  release(destroy?: boolean): void {
    this.client.release(destroy);
  }
}
