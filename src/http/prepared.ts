import {
  sql,
  type Compilable,
  type CompiledQuery,
  type Kysely,
  type QueryResult,
  type RawBuilder,
} from 'kysely';
import type { Database } from '../db/schema.js';

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

/** Stands for the i-th value while the query is built; no real value starts with a NUL. */
const placeholder = (index: number) => `\u0000value ${index}`;

/**
 * A query that runs on every request, built and compiled by Kysely once, then run with new
 * values. For a short indexed statement, building and compiling the query cost several times
 * what SQLite spends answering it. The values stay bound parameters: the query is built with a
 * placeholder for each, and each run puts the values where the placeholders were.
 *
 * `build` must hand each value to Kysely as it is, as a bound value (not reshaped, not part of
 * an identifier); compiling checks that every placeholder came out as a parameter.
 *
 * @example
 * const userById = new PreparedQuery((db, id) => db.selectFrom('users').selectAll().where('id', '=', id));
 * const { rows } = await userById.execute(db, userId);
 */
export class PreparedQuery<Row, Values extends string[]> {
  private compiled: { query: CompiledQuery<Row>; slots: number[] } | null = null;

  constructor(
    private readonly build: (db: Kysely<Database>, ...values: Values) => Compilable<Row>,
  ) {}

  /**
   * Runs the query on `db`, which may be a transaction. It is compiled on first use; every
   * database an app passes speaks the same dialect, so the SQL is the same for all.
   */
  execute(db: Kysely<Database>, ...values: Values): Promise<QueryResult<Row>> {
    const { query, slots } = this.compiled ?? this.compile(db, values.length);
    const parameters = query.parameters.map((constant, i) => {
      const slot = slots[i] ?? -1;
      return slot === -1 ? constant : values[slot];
    });
    return db.executeQuery<Row>({ ...query, parameters });
  }

  private compile(db: Kysely<Database>, arity: number) {
    const placeholders = Array.from({ length: arity }, (_, i) => placeholder(i)) as Values;
    const query = this.build(db, ...placeholders).compile();

    const slots = query.parameters.map((value) =>
      typeof value === 'string' ? placeholders.indexOf(value) : -1,
    );
    const used = placeholders.every((_, i) => slots.includes(i));
    if (!used || query.sql.includes('\u0000')) {
      throw new Error('A prepared query must bind each of its values as a parameter, unchanged.');
    }

    this.compiled = { query, slots };
    return this.compiled;
  }
}
