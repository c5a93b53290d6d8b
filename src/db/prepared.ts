import {
  CompiledQuery,
  sql,
  type Compilable,
  type DialectAdapter,
  type Insertable,
  type Kysely,
  type QueryResult,
  type RawBuilder,
} from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

/** Where a value given at run time goes in a statement built once. */
class Slot {
  constructor(readonly name: string) {}
}

/**
 * A statement that is built and compiled by Kysely once per dialect and afterwards only run with
 * new values. Building a query costs Kysely tens of microseconds, several times what SQLite takes
 * to run a short indexed one; hot paths that send the same statement on every request use this.
 *
 * `build` receives `arg(name)` for each value that changes from run to run. Such a value can go
 * wherever Kysely takes a single value; lists (`in`) and everything that changes the SQL itself
 * must be constants of the statement. It also receives the values of the first run, whose names
 * an insert may take for its columns.
 *
 * @example
 * const groupById = prepared<{ id: string }, GroupRow>((db, arg) =>
 *   db.selectFrom('groups').selectAll().where('id', '=', arg('id')),
 * );
 * const rows = (await groupById(trx, { id })).rows;
 */
export function prepared<Args extends object, Row>(
  build: (
    db: Db,
    arg: <K extends keyof Args & string>(name: K) => Args[K],
    first: Args,
  ) => Compilable<Row>,
): (db: Db, args: Args) => Promise<QueryResult<Row>> {
  // One compiled statement per dialect: a transaction has its own Kysely instance, but it shares
  // the adapter of the database it belongs to.
  const compiled = new WeakMap<DialectAdapter, { sql: string; values: readonly unknown[] }>();

  return (db, args) => {
    const adapter = db.getExecutor().adapter;
    let statement = compiled.get(adapter);
    if (!statement) {
      const query = build(db, (name) => new Slot(name) as never, args).compile();
      statement = { sql: query.sql, values: query.parameters };
      compiled.set(adapter, statement);
      if (!names.has(query.sql)) names.set(query.sql, `elevate_${names.size + 1}`);
    }

    const parameters = statement.values.map((value) =>
      value instanceof Slot ? ((args as Record<string, unknown>)[value.name] ?? null) : value,
    );
    return db.executeQuery<Row>(CompiledQuery.raw(statement.sql, parameters));
  };
}

/** The text of every statement compiled once, and the name it is prepared under. */
const names = new Map<string, string>();

/**
 * The name under which PostgreSQL may keep `sql` prepared, if it is a statement compiled once;
 * undefined for any other text. There are as many names as statements written with `prepared`,
 * a fixed number, so a connection never prepares more than that.
 */
export function statementName(sql: string): string | undefined {
  return names.get(sql);
}

/**
 * Inserts one row into `table`, with the columns named by the first row it inserts: meant for
 * row types whose every column is always given (null rather than left out).
 */
export function preparedInsert<T extends keyof Database>(
  table: T,
): (db: Db, row: Insertable<Database[T]>) => Promise<void> {
  const insert = prepared<Record<string, unknown>, never>((db, arg, first) =>
    db
      .insertInto(table)
      .values(
        Object.fromEntries(Object.keys(first).map((column) => [column, arg(column)])) as never,
      ),
  );
  return async (db, row) => {
    await insert(db, row);
  };
}

/**
 * A text value for a statement that runs on every request, bound as `cast(? as text)`. Once
 * ANALYZE has stored sample rows (sqlite_stat4, which better-sqlite3's SQLite is built with),
 * SQLite consults a plain bound value that meets an indexed column while planning, and so marks
 * the statement stale each time a value is bound: every run prepares it again, which costs
 * several times the lookup itself. A cast is not a value the planner can look at, so the
 * statement is planned once, from the per-index averages, and kept. On PostgreSQL the cast is
 * what the parameter's type already was.
 */
export function boundText<T extends string>(value: T): RawBuilder<T> {
  return sql<T>`cast(${value} as text)`;
}

/**
 * An integer bound as `cast(? as integer)`, for LIMIT and OFFSET: SQLite also plans with a bound
 * LIMIT's value, with the same cost as above, on every page of every list.
 */
export function boundInteger(value: number): RawBuilder<number> {
  return sql<number>`cast(${value} as integer)`;
}
