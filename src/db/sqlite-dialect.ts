import type SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import {
  createQueryId,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/** How many transactions one COMMIT may carry, and how long the first of them may wait for it. */
export interface GroupCommitOptions {
  maxTransactions: number;
  maxWaitMs: number;
  /** Called after each COMMIT with the number of transactions it made durable. */
  onCommit?: (transactions: number) => void;
}

const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxTransactions: 64, maxWaitMs: 20 };

export function immediateSqliteDialect(
  sqlite: SqliteDatabase.Database,
  options: Partial<GroupCommitOptions> = {},
): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () =>
      new GroupCommitSqliteDriver(sqlite, { ...DEFAULT_GROUP_COMMIT, ...options }),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

/** A savepoint per transaction, so that one can fail without undoing the others of its group. */
const UNIT = 'elevate_transaction';

/** A lease of the one connection; Kysely hands it back to every driver call of that lease. */
class Lease implements DatabaseConnection {
  /** Inside BEGIN ... COMMIT of a Kysely transaction. */
  inTransaction = false;
  /** Its transaction waits for the group's COMMIT and the connection has already moved on. */
  handedOver = false;

  constructor(private readonly driver: GroupCommitSqliteDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return Promise.resolve(this.driver.run<R>(this, query));
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    for (const row of this.driver.iterate<R>(this, query)) yield { rows: [row] };
  }
}

interface Waiting {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Kysely's driver for Elevate's one SQLite connection, with two differences from Kysely's own.
 *
 * Every transaction begins with BEGIN IMMEDIATE. In WAL mode a transaction that began as a reader
 * and then writes gets SQLITE_BUSY, whatever the busy timeout, when another process wrote
 * meanwhile; taking the write lock up front makes it wait instead.
 *
 * Transactions that finish in the same turn of the event loop share one COMMIT (group commit).
 * With synchronous=FULL each COMMIT waits for the disk, and that wait, not the work, limits how
 * many writes a second one connection can make. Statements run synchronously, so a transaction
 * usually runs from BEGIN to its end without letting another request in; a finished transaction
 * therefore only releases its savepoint and lets the requests that are ready to run go on. The
 * group commits at the end of that turn, or sooner when it is full or old enough, and only then
 * does each of its transactions return. A caller is never told of a write before it is durable, a
 * failed transaction is rolled back to its savepoint without touching the others, and the
 * transactions of a group still run one after another, each seeing the ones before it.
 *
 * Queries outside a transaction that read, run inside an open group and see its writes before
 * they are durable; if that COMMIT then failed (a disk error), such a read saw writes that never
 * landed, and every transaction of the group fails. A query outside a transaction that writes
 * joins the open group and commits it at once, so that it too is durable once it returns, at the
 * cost of one COMMIT rather than the group's and a COMMIT of its own.
 */
export class GroupCommitSqliteDriver implements Driver {
  private readonly statements: StatementCache;
  private held = false;
  private readonly queue: (() => void)[] = [];
  private readonly idle: Lease[] = [];
  private group: { waiting: Waiting[]; startedAt: number } | null = null;
  /** The group's time is up, but a lease was out: its release commits. */
  private commitOnRelease = false;

  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    private readonly options: GroupCommitOptions,
  ) {
    this.statements = new StatementCache(sqlite);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.held) {
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    this.held = true;
    return this.idle.pop() ?? new Lease(this);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    if (lease.handedOver) {
      lease.handedOver = false;
    } else {
      if (this.group && (this.commitOnRelease || this.groupIsDue())) this.commitGroup();
      this.passOn();
    }
    lease.inTransaction = false;
    this.idle.push(lease);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.group) {
      this.exec('begin immediate');
      this.group = { waiting: [], startedAt: performance.now() };
      setImmediate(() => this.commitWhenFree());
    }
    this.exec(`savepoint ${UNIT}`);
    (connection as Lease).inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    this.exec(`release ${UNIT}`);
    lease.inTransaction = false;

    if (this.groupIsDue()) {
      this.commitGroup(true);
      return;
    }

    // Requests that are ready to run get the rest of this turn of the event loop to join the
    // group; this transaction returns once the group's COMMIT is done.
    const durable = new Promise<void>((resolve, reject) => {
      this.group?.waiting.push({ resolve, reject });
    });
    lease.handedOver = true;
    this.passOn();
    await durable;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    // Its group failed to commit after the connection had moved on: nothing left to undo.
    if (lease.handedOver || !lease.inTransaction) return;

    lease.inTransaction = false;
    if (!this.sqlite.inTransaction) {
      // SQLite itself ended the transaction (a disk error, say): the whole group is lost.
      this.failGroup(new Error('SQLite rolled back the transaction after an error.'));
      return;
    }
    this.exec(`rollback to ${UNIT}`);
    this.exec(`release ${UNIT}`);
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointNode('savepoint', name), createQueryId()));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointNode('rollback to', name), createQueryId()));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(compile(savepointNode('release', name), createQueryId()));
  }

  async destroy(): Promise<void> {
    if (this.group) this.commitGroup();
    this.statements.clear();
    this.sqlite.close();
  }

  run<R>(lease: Lease, query: CompiledQuery): QueryResult<R> {
    const statement = this.statements.get(query.sql);
    const result = runStatement<R>(statement, query.parameters);

    // SQLite's own verdict tells a write: a statement compiled once (db/prepared) reaches the
    // driver as raw SQL, whose query node no longer says it is a SELECT, and a read taken for a
    // write would COMMIT the group on every request that runs one. A statement that failed
    // changed nothing, and the group goes on as if it had not run.
    if (this.group && !lease.inTransaction && !statement.readonly) this.commitGroup(true);
    return result;
  }

  iterate<R>(lease: Lease, query: CompiledQuery): IterableIterator<R> {
    const statement = this.statements.get(query.sql);
    // Rows come after this returns: a write outside a transaction cannot wait for them to commit.
    if (this.group && !lease.inTransaction && !statement.readonly) this.commitGroup();
    return statement.iterate(query.parameters) as IterableIterator<R>;
  }

  /** The end of the turn of the event loop in which the group began. */
  private commitWhenFree(): void {
    if (!this.group) return;
    if (this.held) this.commitOnRelease = true;
    else this.commitGroup();
  }

  private groupIsDue(): boolean {
    const group = this.group;
    if (!group) return false;
    return (
      group.waiting.length + 1 >= this.options.maxTransactions ||
      performance.now() - group.startedAt >= this.options.maxWaitMs
    );
  }

  /**
   * COMMITs the open group and settles its waiting transactions. `rethrow` is for the caller whose
   * own write is in the group, a transaction or a write outside one: it learns of a failed COMMIT
   * by the error.
   */
  private commitGroup(rethrow = false): void {
    const group = this.group;
    if (!group) return;

    try {
      this.exec('commit');
    } catch (error) {
      if (this.sqlite.inTransaction) this.exec('rollback');
      this.failGroup(error);
      if (rethrow) throw error;
      return;
    }
    this.group = null;
    this.commitOnRelease = false;
    this.options.onCommit?.(group.waiting.length + (rethrow ? 1 : 0));
    for (const waiting of group.waiting) waiting.resolve();
  }

  private failGroup(error: unknown): void {
    const group = this.group;
    this.group = null;
    this.commitOnRelease = false;
    for (const waiting of group?.waiting ?? []) waiting.reject(error);
  }

  private passOn(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.held = false;
  }

  private exec(source: string): void {
    this.statements.get(source).run();
  }
}

/** Rows from a statement that answers some (a SELECT, or a write with RETURNING); else changes. */
function runStatement<R>(
  statement: SqliteDatabase.Statement,
  parameters: readonly unknown[],
): QueryResult<R> {
  if (statement.reader) return { rows: statement.all(parameters) as R[] };

  const { changes, lastInsertRowid } = statement.run(parameters);
  return {
    numAffectedRows: BigInt(changes),
    insertId: BigInt(lastInsertRowid),
    rows: [],
  };
}

function savepointNode(command: 'savepoint' | 'rollback to' | 'release', name: string) {
  return sql`${sql.raw(command)} ${sql.id(name)}`.toOperationNode();
}

/** Prepared statements kept for reuse; the app sends far fewer distinct ones than this. */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * Preparing a statement costs SQLite several times more than running a short indexed query, and
 * the app sends the same few hundred statements over and over, so each is prepared once and
 * reused; past the limit, the least recently used is dropped.
 */
class StatementCache {
  private readonly statements = new Map<string, SqliteDatabase.Statement>();

  constructor(private readonly sqlite: SqliteDatabase.Database) {}

  get(source: string): SqliteDatabase.Statement {
    const cached = this.statements.get(source);
    if (cached) {
      this.statements.delete(source);
      this.statements.set(source, cached);
      return cached;
    }

    const statement = this.sqlite.prepare(source);
    this.statements.set(source, statement);
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.statements.keys().next();
      if (!oldest.done) this.statements.delete(oldest.value);
    }
    return statement;
  }

  clear(): void {
    this.statements.clear();
  }
}
