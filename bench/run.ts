/**
 * `npm run bench` (add `-- --quick` for a run 20 times smaller): builds a synthetic organisation
 * on SQLite, and on PostgreSQL when ELEVATE_TEST_DATABASE_URL is set, measures the speed goals
 * of reference/reliability-perf.md section C against it, and writes bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import ts from 'typescript';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Db, type DialectName } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { AccessService } from '../src/directory/access.js';
import type { Caller } from '../src/http/caller.js';
import { parseODataQuery } from '../src/http/odata.js';
import { PimPermissions } from '../src/pim/permissions.js';
import { PimReads, scheduleSpec } from '../src/pim/reads.js';
import { SystemClock } from '../src/shared/clock.js';
import {
  ACTIVATION_SLOT,
  addOverdue,
  buildDataset,
  FULL_SIZE,
  QUICK_SIZE,
  seeded,
  type Dataset,
  type DatasetSize,
} from './dataset.js';
import { load, paced, type LoadResult } from './load.js';
import { explainQueries, type QueryPlan } from './plans.js';
import { REPO, ServerProcess, timeStartup, TSX, type StartupTiming } from './processes.js';
import { describeMachine, writeResults, printSummary } from './report.js';
import { summarize, type Summary } from './stats.js';

/** The issuer of the tokens; the server under test is configured with the same. */
const PUBLIC_URL = 'http://127.0.0.1:8080';
const ADMIN_PASSWORD = 'bench admin password, not a secret';
const PIM = '/v1.0/identityGovernance/privilegedAccess/group';

export interface RunSettings {
  quick: boolean;
  size: DatasetSize;
  inProcessCalls: number;
  /** Seconds of each HTTP run. */
  seconds: number;
  connections: number;
  activations: number;
  /** Users whose tokens the read runs cycle through. */
  tokenPool: number;
  startups: number;
}

export interface DatabaseResults {
  dialect: DialectName;
  version: string;
  dataset: { rows: Record<string, number>; seconds: number; fileMiB: number | null };
  roleIds: { micros: Summary; opsPerSecond: number; withRoles: number };
  plans: { title: string; queries: QueryPlan[] }[];
  http: {
    healthz: LoadResult;
    check: LoadResult;
    checkPaced: LoadResult;
    mine: LoadResult;
    minePaced: LoadResult;
    activations: LoadResult;
    activationsWritten: number;
  };
  memory: { restMiB: number; loadMiB: number; afterMiB: number };
  startup: StartupTiming[];
  catchUp: { items: number; seconds: number; perSecond: number; batches: number } | string;
}

const quick = process.argv.includes('--quick');
/** `--only=sqlite` or `--only=postgres` runs one database; `--out=FILE` writes elsewhere. */
const only = option('only');
const out = option('out');
/** `--profile=DIR` writes a V8 CPU profile of the server under test into DIR when it stops. */
const profile = option('profile');

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}
const settings: RunSettings = quick
  ? {
      quick,
      size: QUICK_SIZE,
      inProcessCalls: 5_000,
      seconds: 3,
      connections: 32,
      activations: 2_000,
      tokenPool: 500,
      startups: 2,
    }
  : {
      quick,
      size: FULL_SIZE,
      inProcessCalls: 20_000,
      seconds: 10,
      connections: 32,
      activations: 10_000,
      tokenPool: 2_000,
      startups: 3,
    };

const log = (line: string) => process.stdout.write(`${line}\n`);

interface Target {
  dialect: DialectName;
  create(): Promise<{
    db: Db;
    url: string;
    schema: string | undefined;
    /** The database URL for a plain `elevate serve`, which has no schema option. */
    serveUrl: string;
    dir: string;
    drop(): Promise<void>;
  }>;
}

const targets: Target[] = [
  {
    dialect: 'sqlite',
    async create() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-bench-'));
      const url = `sqlite:${path.join(dir, 'elevate.db')}`;
      const db = await openDatabase(url);
      return {
        db,
        url,
        schema: undefined,
        serveUrl: url,
        dir,
        async drop() {
          await db.close();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
const postgresUrl = process.env.ELEVATE_TEST_DATABASE_URL;
if (postgresUrl) {
  targets.push({
    dialect: 'postgres',
    async create() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elevate-bench-'));
      const schema = `bench_${randomBytes(6).toString('hex')}`;
      await adminQuery(postgresUrl, `create schema ${schema}`);
      const db = await openDatabase(postgresUrl, { schema });
      const serveUrl = new URL(postgresUrl);
      serveUrl.searchParams.set('options', `-c search_path=${schema}`);
      return {
        db,
        url: postgresUrl,
        schema,
        serveUrl: serveUrl.toString(),
        dir,
        async drop() {
          await db.close();
          await adminQuery(postgresUrl, `drop schema ${schema} cascade`);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  });
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

async function main(): Promise<void> {
  const machineBefore = describeMachine();
  log(`Elevate benchmark (${quick ? 'quick' : 'full'}) on ${machineBefore.cpu}`);
  const serve = prepareServeCommand();
  const results: DatabaseResults[] = [];
  for (const target of targets.filter((t) => !only || t.dialect === only)) {
    log(`\n[${target.dialect}]`);
    results.push(await benchDatabase(target, serve));
  }
  const machine = { ...machineBefore, loadAfter: os.loadavg() };
  const file = await writeResults(settings, machine, results, serve, out);
  printSummary(results);
  log(`\nWrote ${path.relative(process.cwd(), file)}`);
}

interface ServeCommand {
  command: string[];
  description: string;
  /** The tsc build the server under test runs, or null for the sources through tsx. */
  appDir: string | null;
  /** `bench/server.ts`, or its JavaScript build next to `appDir`. */
  benchServer: string;
}

async function benchDatabase(target: Target, serve: ServeCommand): Promise<DatabaseResults> {
  const database = await target.create();
  const { db } = database;
  let app: App | undefined;
  try {
    await migrateToLatest(db);
    const config = loadConfig({
      ELEVATE_DATABASE_URL: database.url,
      ELEVATE_PUBLIC_URL: PUBLIC_URL,
      ELEVATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    app = await buildApp(config, { db, logger: false });
    const version = await databaseVersion(db);

    log('Building the dataset...');
    const dataset = await buildDataset(db, settings.size, log);
    log(`  done in ${dataset.seconds.toFixed(1)} s`);
    const fileMiB =
      db.dialect === 'sqlite' ? fileSizeMiB(database.url.slice('sqlite:'.length)) : null;

    log('Effective roles, in-process...');
    const roleIds = await measureRoleIds(app, dataset);
    log(`  p50 ${roleIds.micros.p50.toFixed(1)} µs, p99 ${roleIds.micros.p99.toFixed(1)} µs`);
    const plans = await queryPlans(app, db, dataset);

    log('Starting the server under test...');
    const server = await ServerProcess.start(
      {
        BENCH_DATABASE_URL: database.url,
        BENCH_SCHEMA: database.schema ?? '',
        BENCH_PUBLIC_URL: PUBLIC_URL,
        BENCH_APP_DIR: serve.appDir ?? '',
      },
      database.dir,
      profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] : [],
      serve.benchServer,
    );
    let http: DatabaseResults['http'];
    let memory: DatabaseResults['memory'];
    try {
      // A moment to settle, then the memory of a server that has not served anything yet.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const rest = (await server.usage()).rss;
      http = await measureHttp(app, dataset, server);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const after = (await server.usage()).rss;
      const loadMax = Math.max(...Object.values(http).map((r) => (isLoad(r) ? r.serverRssMax : 0)));
      memory = { restMiB: toMiB(rest), loadMiB: toMiB(loadMax), afterMiB: toMiB(after) };
    } finally {
      await server.stop();
    }

    log('Start-up of elevate serve on the full dataset...');
    const startup: StartupTiming[] = [];
    for (let i = 0; i < settings.startups; i += 1) {
      startup.push(
        await timeStartup(
          serve.command,
          {
            ELEVATE_DATABASE_URL: database.serveUrl,
            ELEVATE_PUBLIC_URL: PUBLIC_URL,
            ELEVATE_LOG_LEVEL: 'warn',
          },
          database.dir,
        ),
      );
      log(`  ${startup.at(-1)?.ms.toFixed(0)} ms`);
    }

    log(`Expiry catch-up of ${settings.size.overdue} overdue schedules...`);
    const catchUp = await measureCatchUp(app, db, dataset);
    if (typeof catchUp !== 'string') log(`  ${Math.round(catchUp.perSecond)} items/s`);

    return {
      dialect: db.dialect,
      version,
      dataset: { rows: dataset.rows, seconds: dataset.seconds, fileMiB },
      roleIds,
      plans,
      http,
      memory,
      startup,
      catchUp,
    };
  } finally {
    await app?.close();
    await database.drop();
  }
}

/** `AccessService.roleIdsOf` for random users, one call at a time, each timed on its own. */
async function measureRoleIds(app: App, dataset: Dataset): Promise<DatabaseResults['roleIds']> {
  const random = seeded(11);
  const pick = () => dataset.userIds[Math.floor(random() * dataset.userIds.length)] ?? '';
  const access = app.services.access;

  for (let i = 0; i < 1_000; i += 1) await access.roleIdsOf(pick());

  const micros: number[] = [];
  let withRoles = 0;
  const started = performance.now();
  for (let i = 0; i < settings.inProcessCalls; i += 1) {
    const userId = pick();
    const t0 = process.hrtime.bigint();
    const roles = await access.roleIdsOf(userId);
    micros.push(Number(process.hrtime.bigint() - t0) / 1_000);
    if (roles.size > 0) withRoles += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  if (withRoles === 0) throw new Error('No user holds a role: the dataset is not what it seems.');
  return {
    micros: summarize(micros),
    opsPerSecond: settings.inProcessCalls / seconds,
    withRoles: withRoles / settings.inProcessCalls,
  };
}

/** The plans of the queries behind the check and behind "my eligible assignments". */
async function queryPlans(app: App, db: Db, dataset: Dataset) {
  const userId = dataset.userIds[1] ?? '';
  const clock = new SystemClock();
  const caller: Caller = {
    userId,
    userPrincipalName: 'bench.user1@elevate.local',
    displayName: 'Bench User 1',
    amr: ['pwd'],
    via: 'token',
    ip: '127.0.0.1',
  };
  const check = await explainQueries(db, (kysely) =>
    new AccessService(kysely, clock).roleIdsOf(userId),
  );
  const mine = await explainQueries(db, (kysely) => {
    const access = new AccessService(kysely, clock);
    const reads = new PimReads(
      { ...db, kysely },
      clock,
      new PimPermissions(access),
      app.services.approvals,
    );
    return reads.listSchedules(
      { caller, correlationId: 'bench' },
      'eligibility',
      'schedules',
      parseODataQuery({}, scheduleSpec),
      true,
    );
  });
  return [
    { title: 'Effective roles (AccessService.roleIdsOf)', queries: check },
    {
      title: 'My eligible assignments (filterByCurrentUser, eligibility schedules)',
      queries: mine,
    },
  ];
}

async function measureHttp(
  app: App,
  dataset: Dataset,
  server: ServerProcess,
): Promise<DatabaseResults['http']> {
  const random = seeded(23);
  const userCount = dataset.userIds.length;
  const poolUsers = Array.from({ length: Math.min(settings.tokenPool, userCount) }, () =>
    Math.floor(random() * userCount),
  );
  log(`Issuing ${poolUsers.length} tokens...`);
  const pool = await Promise.all(
    poolUsers.map(async (u) => ({
      id: dataset.userIds[u] ?? '',
      token: await tokenFor(app, dataset, u),
    })),
  );
  let turn = 0;
  const nextUser = () => pool[turn++ % pool.length] ?? { id: '', token: '' };
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const checkPath = (id: string) =>
    '/v1.0/roleManagement/directory/transitiveRoleAssignments?$filter=' +
    encodeURIComponent(`principalId eq '${id}'`);
  const minePath = `${PIM}/eligibilitySchedules/filterByCurrentUser(on='principal')`;
  const base = { server, connections: settings.connections, duration: settings.seconds };

  // One answer of each kind first: the runs below measure real answers, not errors.
  const sample = pool[0] ?? { id: '', token: '' };
  const checked = await getJson(server, checkPath(sample.id), sample.token);
  if (!Array.isArray(checked.value) || checked.value.length === 0) {
    throw new Error(`The check answered no role: ${JSON.stringify(checked)}`);
  }
  const listed = await getJson(server, minePath, sample.token);
  if (!Array.isArray(listed.value) || listed.value.length !== dataset.size.eligibilitiesPerUser) {
    throw new Error(`"My eligible assignments" answered ${JSON.stringify(listed).slice(0, 300)}`);
  }

  log('HTTP: /healthz, then the check, as fast as they go...');
  const healthz = await load({
    ...base,
    title: 'GET /healthz',
    next: () => ({ path: '/healthz' }),
  });
  report(healthz);
  const check = await load({
    ...base,
    title: 'GET transitiveRoleAssignments',
    next: () => {
      const user = nextUser();
      return { path: checkPath(user.id), headers: auth(user.token) };
    },
  });
  report(check);
  const checkPaced = await paced({
    server,
    seconds: settings.seconds,
    rate: Math.max(1, Math.round(check.throughput / 2)),
    title: 'GET transitiveRoleAssignments at half its top rate',
    next: () => {
      const user = nextUser();
      return { path: checkPath(user.id), headers: auth(user.token) };
    },
  });
  report(checkPaced);

  log('HTTP: my eligible assignments...');
  const mine = await load({
    ...base,
    title: 'GET eligibilitySchedules/filterByCurrentUser',
    next: () => ({ path: minePath, headers: auth(nextUser().token) }),
  });
  report(mine);
  const minePaced = await paced({
    server,
    seconds: settings.seconds,
    rate: Math.max(1, Math.round(mine.throughput / 2)),
    title: 'GET eligibilitySchedules/filterByCurrentUser at half its top rate',
    next: () => ({ path: minePath, headers: auth(nextUser().token) }),
  });
  report(minePaced);

  const activations = await measureActivations(app, dataset, server);
  return { healthz, check, checkPaced, mine, minePaced, ...activations };
}

/** selfActivate for distinct eligible users, each with its own token, through autocannon. */
async function measureActivations(app: App, dataset: Dataset, server: ServerProcess) {
  const { userIds, groupIds, eligibleGroup, size } = dataset;
  const count = Math.min(settings.activations, userIds.length);
  // Users in a shuffled order, each activating the eligibility that has no assignment yet.
  const random = seeded(31);
  const order = Array.from({ length: userIds.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  log(`Issuing ${count} tokens for activations...`);
  const requests = await Promise.all(
    order.slice(0, count).map(async (u) => {
      const userId = userIds[u] ?? '';
      const groupId = groupIds[eligibleGroup[u * size.eligibilitiesPerUser + ACTIVATION_SLOT] ?? 0];
      return {
        headers: { authorization: `Bearer ${await tokenFor(app, dataset, u)}` },
        body: JSON.stringify({
          action: 'selfActivate',
          principalId: userId,
          groupId,
          accessId: 'member',
          justification: 'Benchmark: investigating an incident',
          scheduleInfo: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
        }),
      };
    }),
  );

  log(`HTTP: ${count} activations...`);
  const since = new Date().toISOString();
  let turn = 0;
  const activations = await load({
    server,
    title: 'POST assignmentScheduleRequests (selfActivate)',
    connections: 16,
    amount: count,
    expect: 201,
    next: () => {
      const request = requests[turn++ % requests.length];
      return {
        method: 'POST',
        path: `${PIM}/assignmentScheduleRequests`,
        headers: request?.headers ?? {},
        body: request?.body ?? '',
      };
    },
  });
  report(activations);
  const written = await app.db.kysely
    .selectFrom('pim_schedules')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('kind', '=', 'assignment')
    .where('assignment_type', '=', 'activated')
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return { activations, activationsWritten: Number(written.count) };
}

/** Overdue schedules added at once, then one full pass of the jobs, timed. */
async function measureCatchUp(
  app: App,
  db: Db,
  dataset: Dataset,
): Promise<DatabaseResults['catchUp']> {
  if (typeof app.jobs?.runPass !== 'function') {
    return 'The jobs loop (src/jobs) has no pass to time yet; no figure is given.';
  }
  const added = await addOverdue(db, dataset);
  const report = await app.jobs.runPass();
  const items = report.processed.expired;
  if (items < added) {
    throw new Error(`The catch-up pass expired ${items} of ${added} overdue schedules.`);
  }
  const seconds = report.durationMs / 1000;
  return { items, seconds, perSecond: items / seconds, batches: report.batches };
}

/** A token for user `u` of the dataset, as the token endpoint would issue it. */
function tokenFor(app: App, dataset: Dataset, u: number): Promise<string> {
  return app.services.tokens.issue({
    oid: dataset.userIds[u] ?? '',
    upn: `bench.user${u}@elevate.local`,
    amr: ['pwd'],
  });
}

async function getJson(server: ServerProcess, urlPath: string, token: string) {
  const response = await fetch(server.url + urlPath, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await response.json()) as { value?: unknown[] };
}

function report(result: LoadResult): void {
  log(
    `  ${result.title}: ${Math.round(result.throughput)}/s, ` +
      `p50 ${result.latency.p50.toFixed(2)} ms, ` +
      `p99 ${result.latency.p99.toFixed(2)} ms, server ${result.serverCores.toFixed(2)} cores` +
      (result.failed > 0 ? `, ${result.failed} failed: ${result.failures[0] ?? ''}` : ''),
  );
}

function isLoad(value: unknown): value is LoadResult {
  return typeof value === 'object' && value !== null && 'serverRssMax' in value;
}

async function databaseVersion(db: Db): Promise<string> {
  const query =
    db.dialect === 'sqlite'
      ? sql<{ v: string }>`select sqlite_version() as v`
      : sql<{ v: string }>`select version() as v`;
  const result = await query.execute(db.kysely);
  const version = result.rows[0]?.v ?? 'unknown';
  return db.dialect === 'sqlite' ? `SQLite ${version}` : (version.split(' on ')[0] ?? version);
}

function fileSizeMiB(file: string): number {
  const sizes = [file, `${file}-wal`].map((f) => (fs.existsSync(f) ? fs.statSync(f).size : 0));
  return toMiB(sizes.reduce((a, b) => a + b, 0));
}

function toMiB(bytes: number): number {
  return bytes / 1024 / 1024;
}

/**
 * What runs as the server under test: `node dist/main.js serve` from a build of this working
 * tree, the way `npm start` runs, and `bench/server.ts` built beside it; a tree that does not
 * build runs its sources through tsx instead.
 */
function prepareServeCommand(): ServeCommand {
  const tsx = {
    command: ['--import', TSX, path.join(REPO, 'src', 'main.ts'), 'serve'],
    description: '`node --import tsx src/main.ts serve` (sources compiled at start by tsx)',
    appDir: null,
    benchServer: path.join(REPO, 'bench', 'server.ts'),
  };

  // Under node_modules, so that the build resolves the project's dependencies as dist/ does.
  const out = path.join(REPO, 'node_modules', '.cache', 'elevate-bench', 'dist');
  fs.rmSync(out, { recursive: true, force: true });
  log('Building the server...');
  spawnSync(
    process.execPath,
    [
      path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      path.join(REPO, 'tsconfig.build.json'),
      '--outDir',
      out,
    ],
    { stdio: 'ignore' },
  );
  const main = path.join(out, 'main.js');
  if (!fs.existsSync(main)) return tsx;

  const benchServer = path.join(out, 'bench-server.js');
  const source = fs.readFileSync(path.join(REPO, 'bench', 'server.ts'), 'utf8');
  const built = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  });
  fs.writeFileSync(benchServer, built.outputText);
  return {
    command: [main, 'serve'],
    description: '`node dist/main.js serve`, built with tsc from this working tree',
    appDir: out,
    benchServer,
  };
}

await main();
