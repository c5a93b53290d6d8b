import type SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type SqliteDatabase as KyselySqliteDatabase,
} from 'kysely';

/**
 * SQLite in WAL mode answers SQLITE_BUSY, even with a busy timeout, when a transaction that
 * began as a reader tries to write while another process writes. Starting every transaction with
 * BEGIN IMMEDIATE takes the write lock up front, so such a transaction waits instead of failing.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export function immediateSqliteDialect(sqlite: SqliteDatabase.Database): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new ImmediateSqliteDriver({ database: reusingStatements(sqlite) }),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

/** Prepared statements kept for reuse; the app sends far fewer distinct ones than this. */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * Kysely prepares every query anew, and preparing costs SQLite several times more than running a
 * short indexed query. The app sends the same few hundred statements over and over, so each is
 * prepared once and reused; past the limit, the least recently used is dropped.
 */
function reusingStatements(sqlite: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(source: string) {
      const cached = statements.get(source);
      if (cached) {
        statements.delete(source);
        statements.set(source, cached);
        return cached;
      }
      const statement = sqlite.prepare(source);
      statements.set(source, statement);
      if (statements.size > STATEMENT_CACHE_SIZE) {
        const oldest = statements.keys().next();
        if (!oldest.done) statements.delete(oldest.value);
      }
      return statement;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}
