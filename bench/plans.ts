import {
  isCompilable,
  type Compilable,
  type CompiledQuery,
  type Kysely,
  type KyselyPlugin,
  type QueryId,
} from 'kysely';
import type { Db } from '../src/db/database.js';
import type { Database } from '../src/db/schema.js';

/** A query as the app sent it, and the plan the database chose for it. */
export interface QueryPlan {
  sql: string;
  plan: string;
}

/**
 * Runs `work` against a Kysely instance that records every query it sends, then asks the
 * database how it executes each: EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL.
 * Queries built with the query builder pass through a plugin; statements compiled once
 * (`src/db/prepared.ts`) go straight to `executeQuery`, where they are recorded on their way.
 */
export async function explainQueries(
  db: Db,
  work: (kysely: Kysely<Database>) => Promise<unknown>,
): Promise<QueryPlan[]> {
  const executor = db.kysely.getExecutor();
  const captured: CompiledQuery[] = [];
  // A query is recorded once it has run: statements compiled once are also built once, with
  // placeholders for their values, and that build never runs.
  const built = new Map<QueryId, CompiledQuery>();
  const recorder: KyselyPlugin = {
    transformQuery(args) {
      built.set(args.queryId, executor.compileQuery(args.node, args.queryId));
      return args.node;
    },
    transformResult(args) {
      const query = built.get(args.queryId);
      if (query) captured.push(query);
      return Promise.resolve(args.result);
    },
  };
  const recording = db.kysely.withPlugin(recorder);
  const kysely = new Proxy(recording, {
    get(target, property) {
      if (property === 'executeQuery') {
        return (query: CompiledQuery | Compilable, queryId?: QueryId) => {
          const compiled = isCompilable(query) ? query.compile() : query;
          captured.push(compiled);
          return target.executeQuery(compiled, queryId);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  await work(kysely);

  const plans: QueryPlan[] = [];
  for (const query of captured) {
    const prefix = db.dialect === 'sqlite' ? 'explain query plan ' : 'explain analyze ';
    const result = await db.kysely.executeQuery<Record<string, unknown>>({
      ...query,
      sql: prefix + query.sql,
    });
    const lines = result.rows.map((row) =>
      db.dialect === 'sqlite' ? String(row.detail) : String(row['QUERY PLAN']),
    );
    plans.push({ sql: query.sql, plan: lines.join('\n') });
  }
  return plans;
}
