import type { CompiledQuery, Kysely, KyselyPlugin } from 'kysely';
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
 */
export async function explainQueries(
  db: Db,
  work: (kysely: Kysely<Database>) => Promise<unknown>,
): Promise<QueryPlan[]> {
  const executor = db.kysely.getExecutor();
  const captured: CompiledQuery[] = [];
  const recorder: KyselyPlugin = {
    transformQuery(args) {
      captured.push(executor.compileQuery(args.node, args.queryId));
      return args.node;
    },
    transformResult(args) {
      return Promise.resolve(args.result);
    },
  };
  await work(db.kysely.withPlugin(recorder));

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
