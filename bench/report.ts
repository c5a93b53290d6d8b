import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import prettier from 'prettier';
import type { LoadResult } from './load.js';
import { REPO } from './processes.js';
import type { DatabaseResults, RunSettings } from './run.js';
import { fmt } from './stats.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  autocannon: string;
  loadBefore: number[];
  loadAfter?: number[];
}

export function describeMachine(): Machine {
  const pkg = JSON.parse(
    fs.readFileSync(path.join(REPO, 'node_modules', 'autocannon', 'package.json'), 'utf8'),
  ) as { version: string };
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    autocannon: pkg.version,
    loadBefore: os.loadavg(),
  };
}

interface Goal {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

function goals(r: DatabaseResults): Goal[] {
  const { http } = r;
  const ratio = http.check.throughput / http.healthz.throughput;
  const rss = r.memory.loadMiB;
  const startupMax = Math.max(...r.startup.map((s) => s.ms));
  const sqlite = r.dialect === 'sqlite';
  const checkP99 = sqlite ? 250 : 1000;
  const activationTarget = sqlite ? 1000 : 500;
  const list: Goal[] = [
    {
      name: 'Effective roles in-process (`AccessService.roleIdsOf`)',
      target: `p99 ≤ ${checkP99} µs${sqlite ? ' (p50 ≤ 50 µs)' : ''}`,
      measured: `p50 ${fmt(r.roleIds.micros.p50)} µs, p99 ${fmt(r.roleIds.micros.p99)} µs`,
      met: r.roleIds.micros.p99 <= checkP99,
    },
    {
      name: 'Effective roles over HTTP: throughput',
      target: '≥ ½ of `/healthz` on the same server',
      measured:
        `${fmt(http.check.throughput)}/s vs ${fmt(http.healthz.throughput)}/s ` +
        `(ratio ${ratio.toFixed(2)})`,
      met: ratio >= 0.5,
    },
    {
      name: 'Effective roles over HTTP: latency at half its top rate',
      target: 'p99 ≤ 5 ms (p50 ≤ 1 ms)',
      measured:
        `p50 ${fmt(http.checkPaced.latency.p50)} ms, p99 ${fmt(http.checkPaced.latency.p99)} ms ` +
        `at ${fmt(http.checkPaced.throughput)}/s`,
      met: http.checkPaced.latency.p99 <= 5,
    },
    {
      name: `Activations end to end (HTTP selfActivate)`,
      target: `≥ ${activationTarget}/s`,
      measured:
        `${fmt(http.activations.throughput)}/s (${http.activations.ok} of ` +
        `${http.activations.ok + http.activations.failed} answered 201; ` +
        `${http.activationsWritten} written)`,
      met:
        http.activations.throughput >= activationTarget &&
        http.activations.failed === 0 &&
        http.activationsWritten === http.activations.ok,
    },
    {
      name: '"My eligible assignments" over HTTP, at half its top rate',
      target: 'p99 ≤ 5 ms (p50 ≤ 1 ms)',
      measured:
        `p50 ${fmt(http.minePaced.latency.p50)} ms, p99 ${fmt(http.minePaced.latency.p99)} ms ` +
        `at ${fmt(http.minePaced.throughput)}/s`,
      met: http.minePaced.latency.p99 <= 5,
    },
    typeof r.catchUp === 'string'
      ? { name: 'Expiry catch-up', target: '≥ 10 000 items/s', measured: r.catchUp, met: null }
      : {
          name: 'Expiry catch-up (one full jobs pass)',
          target: '≥ 10 000 items/s',
          measured:
            `${fmt(r.catchUp.perSecond)} items/s (${r.catchUp.items} in ` +
            `${r.catchUp.seconds.toFixed(2)} s, ${r.catchUp.batches} batches)`,
          met: r.catchUp.perSecond >= 10_000,
        },
    {
      name: 'Resident memory of the server under load',
      target: '≤ 200 MiB (≤ 100 MiB at rest)',
      measured: `${fmt(rss)} MiB under load, ${fmt(r.memory.restMiB)} MiB at rest`,
      met: rss <= 200,
    },
    {
      name: 'Start-up with the full dataset (spawn to first 200 from `/healthz`)',
      target: '≤ 2 s',
      measured: r.startup.map((s) => `${(s.ms / 1000).toFixed(2)} s`).join(', '),
      met: startupMax <= 2000,
    },
  ];
  return list;
}

/**
 * What profiling (`--cpu-prof`, EXPLAIN QUERY PLAN, per-statement timings) found, and what was
 * changed because of it. It describes the code as it stands; update it with the code.
 */
export const FINDINGS = [
  '## Findings and changes',
  '',
  'Changed because of these measurements (`--cpu-prof` of the server, EXPLAIN QUERY PLAN, ' +
    'per-statement timings), roughly in the order they were found:',
  '',
  '- **Prepared statements are reused on SQLite** (`src/db/sqlite-dialect.ts`). Preparing a ' +
    'short query cost several times what running it did; the driver keeps up to 1 000 ' +
    'prepared statements, least recently used dropped.',
  '- **Statements on hot paths are built once** (`src/db/prepared.ts`). Kysely spends tens of ' +
    'microseconds building and compiling a query, more than SQLite takes to run a short ' +
    'indexed one; the access check, sign-in, the activation’s reads and inserts, audit events ' +
    'and outbox rows compile once per dialect and then only bind values.',
  '- **Values are bound with their type** (`boundText`, `boundInteger`). SQLite re-plans a ' +
    'statement whose parameters its sample statistics (`stat4`) could use; binding them as ' +
    'casts lets it keep one plan per prepared statement.',
  '- **Verified tokens are remembered until they expire** (`src/identity/tokens.ts`). An ES256 ' +
    'check costs about 300 µs; a token that passed is kept (up to 10 000) and its expiry is ' +
    'compared on every use. The account is still read on every request, so disabling a user ' +
    'takes effect at once.',
  '- **Effective roles as one `in (...)` list** of the user and its groups ' +
    '(`src/directory/access.ts`): written with `or`, PostgreSQL read every role assignment.',
  '- **Indexes**: migration `0006_performance` adds `pim_schedules_activated_using` (removing ' +
    'an eligibility scanned every schedule to find its activations) and a covering index for ' +
    '"the groups a principal belongs to now"; `0007_read_indexes` replaces it with ' +
    '`pim_schedules_of_principal`, which also returns "my eligible assignments" in page order ' +
    'without a temporary sort.',
  '- **Parsed OData queries are remembered** per collection (`src/http/odata.ts`); the same ' +
    '`$filter` text is parsed once.',
  '- **Security headers**: helmet’s middleware is built once rather than per answer.',
  '- **Group commit on SQLite** (`src/db/sqlite-dialect.ts`). Transactions that finish in the ' +
    'same turn of the event loop share one `COMMIT`, and so one sync to disk; each answers only ' +
    'once that `COMMIT` is durable. Prepared reads are recognised by SQLite’s own verdict ' +
    '(`statement.readonly`), so a read no longer closes the group: 2 000 activations went ' +
    'from about 2 000 `COMMIT`s to about 350.',
  '- **Checkpoints on a thread of their own** (`src/db/checkpointer.ts`), so that no request ' +
    'waits while the WAL is copied back into the database file.',
  '- **Activations read each policy once**: its parsed view is kept while the stored rules are ' +
    'unchanged (`src/pim/policies/view-cache.ts`), shared by the request engine and the ' +
    'notifier.',
  '- **The jobs loop works on sets**: expiries are claimed, marked and audited a batch at a ' +
    'time (`AuditLog.recordMany`), their emails planned together (`OutboxNotifier.notifyMany`), ' +
    'and the next due time is kept in memory, moved by every request that creates a schedule.',
  '- **Memory**: the driver of the database not in use and the mail transport are imported ' +
    'only when needed, and SQLite’s page cache is 16 MiB. The heap limits of `src/heap.ts` ' +
    '(young generation kept small, old one collected sooner) are set again once the ' +
    'checkpoint thread is online: starting a worker thread puts V8’s flags back to the command ' +
    'line’s, and the young generation then grew to 32 MiB. On the full dataset, with 10 000 ' +
    'activations, that took the server under load from 218 MiB to 183 MiB.',
  '- **Named statements on PostgreSQL** (`src/db/database.ts`): Kysely sends every statement ' +
    'unnamed, so PostgreSQL planned the check’s statement on every run. Sent under a name, it ' +
    'is prepared once per connection: in quick runs one after the other, the in-process ' +
    'check’s median went from 750 µs to 350–400 µs and the check over HTTP from 370 to ' +
    '460–490 answers a second.',
  '- **Latency is measured in an open loop** (see below): autocannon’s rate limit sent each ' +
    'second’s quota in one burst, which measured the burst, not the server.',
  '',
  'Where the time goes, for the goals still missed. Figures are from the same machine, a ' +
    'profile of the server during a quick run; the server’s CPU per answer (its cores in the ' +
    'HTTP table over throughput) is steadier between runs than throughput itself, which ' +
    'depends on what else the two cores are doing, the load generator included.',
  '',
  '- **Effective roles over HTTP against `/healthz`.** `/healthz` does no work of its own: its ' +
    'profile is writing the answer to the socket, Fastify, request logging and metrics. The ' +
    'check does all of that too, and then three SQL statements (about a fifth of its CPU), ' +
    'Kysely building the page query (about a sixth; its filter and order come from the ' +
    'request, so it cannot be compiled once), token and account checks and a larger JSON ' +
    'answer. It costs about four times the CPU of `/healthz`, so the ratio stays near 0.3. ' +
    'Reaching one half would mean dropping work every request does (logging, metrics), which ' +
    'the service needs, or compiling the common filters ahead.',
  '- **Latency at half the top rate.** The median is under a millisecond; the 99th ' +
    'percentile moves from run to run, from about 4 ms to tens, by more than the server’s own ' +
    'work explains: at half rate the server is idle half the time, and no long task shows in ' +
    'its profile. In an open loop at some 900 requests a second, one stall of 100 ms delays ' +
    'about 90 requests, one in a hundred of a ten-second run, and sets the 99th percentile ' +
    'alone. Such a stall can be a garbage collection in the server or in the benchmark ' +
    'process that receives the answers, or the core being given to another process; this ' +
    'machine does not tell them apart.',
  '- **Activations.** The event loop is busy all the time (idle under 2%): a third of its CPU ' +
    'is running about twenty statements per activation (the group, the user, the policy, live ' +
    'schedules, pending requests, the eligibility, the request and schedule, the audit event ' +
    'and its targets, the outbox email and its recipients), a fifth is `BEGIN`, savepoints and ' +
    'the `COMMIT` sync to disk, which better-sqlite3 runs on the event loop; the rest is ' +
    'Kysely, the token check (each user’s token is new to the server) and rendering the email. ' +
    'SQLite has one writer, so more cores would not help. Further steps: render emails in the ' +
    'worker, not in the transaction, compile more of the activation’s statements once, and ' +
    'move the `COMMIT` sync off the event loop.',
  '- **PostgreSQL.** Every statement is a round trip to a server process that shares the ' +
    'two cores. The statements compiled once are sent under names, so each connection ' +
    'prepares them once; the rest, built per request, PostgreSQL parses and plans on every run ' +
    '(the effective-roles statement, before it was named, spent 0.18 ms planning and 0.13 ms ' +
    'running under EXPLAIN ANALYZE of a quick run). The HTTP table’s server CPU counts ' +
    'Node.js alone; PostgreSQL’s own processes take their share of the same cores, which is ' +
    'why the check falls to about a tenth of `/healthz` and an activation, with its ' +
    'twenty-odd statements in one transaction, is slower than on SQLite.',
  '- **Resident memory.** About 50 MiB of it is file-backed: the Node.js binary and the native ' +
    'modules as mapped. A heap snapshot of the server at rest holds about 22 MiB of live ' +
    'objects, mostly code and the strings of loaded modules. Under load come the young ' +
    'generation, SQLite’s page cache (up to 16 MiB), the checkpoint thread (about 12 MiB) and ' +
    'the remembered tokens: every activation in the run brings a new user’s token, up to ' +
    '10 000 kept.',
  '- **Start-up** is nearly all independent of the dataset: on this machine about 1.9 s of CPU, ' +
    'of which loading modules is about a third, garbage collection while they load an eighth ' +
    '(partly the price of the heap limits, set before loading), and ajv compiling the ' +
    'routes’ validation schemas a tenth. The SQL at start-up, with the first jobs pass, takes ' +
    'about 25 ms with the database in the operating system’s file cache and about 100 ms ' +
    'without.',
  '- **Expiry catch-up.** A profile of a full-scale pass (30 000 overdue schedules) spends ' +
    'four fifths of it inside SQLite, two fifths in the statements and two fifths in the ' +
    '`COMMIT`s, against a tenth for the application (policies, emails, audit rows). Marking a ' +
    'schedule `Expired` rewrites its row and its entries in the four indexes that hold its ' +
    'status, scattered through a 2 GiB file; with the audit events and the outbox rows, each ' +
    'batch of 500 dirties thousands of pages, and its `COMMIT` writes them all to the WAL and ' +
    'syncs, about 120 ms a batch here. On the quick dataset, whose smaller file the operating ' +
    'system keeps cached, the same pass runs nearly twice as fast. Ten thousand a second needs ' +
    'fewer pages written per item: status indexes that hold only live schedules, or ended ' +
    'schedules moved to a table of their own.',
].join('\n');

const verdict = (met: boolean | null) => (met === null ? 'no figure' : met ? 'yes' : '**no**');

function loadRow(result: LoadResult): string {
  return (
    `| ${result.title} | ` +
    (result.connections > 0 ? `${result.connections}` : 'open loop') +
    `${result.overallRate ? `, paced at ${fmt(result.overallRate)}/s` : ''} | ` +
    `${fmt(result.throughput)}/s | ${fmt(result.latency.p50)} | ${fmt(result.latency.p99)} | ` +
    `${fmt(result.latency.p999)} | ${result.ok} | ${result.failed} | ` +
    `${result.serverCores.toFixed(2)} |`
  );
}

function section(r: DatabaseResults, settings: RunSettings): string {
  const lines: string[] = [];
  const title = r.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  lines.push(`## ${title} (${r.version})`, '');
  lines.push('| Goal | Target | Measured | Met |', '| --- | --- | --- | --- |');
  for (const goal of goals(r)) {
    lines.push(`| ${goal.name} | ${goal.target} | ${goal.measured} | ${verdict(goal.met)} |`);
  }

  lines.push('', '### Dataset', '');
  const rows = Object.entries(r.dataset.rows)
    .map(([table, count]) => `${table} ${count.toLocaleString('en-US')}`)
    .join(', ');
  lines.push(
    `Built in ${r.dataset.seconds.toFixed(1)} s: ${rows}` +
      (r.dataset.fileMiB !== null ? `; database file ${fmt(r.dataset.fileMiB)} MiB.` : '.'),
  );
  lines.push(
    '',
    `In-process check: ${settings.inProcessCalls} calls for random users, ` +
      `${fmt(r.roleIds.opsPerSecond)} calls/s one at a time; ` +
      `${Math.round(r.roleIds.withRoles * 100)}% of them found at least one role; ` +
      `p99.9 ${fmt(r.roleIds.micros.p999)} µs, max ${fmt(r.roleIds.micros.max)} µs.`,
  );

  lines.push('', '### HTTP runs', '');
  lines.push(
    '| Run | Connections | Throughput | p50 ms | p99 ms | p99.9 ms | OK | Failed | ' +
      'Server CPU (cores) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const { http } = r;
  for (const run of [
    http.healthz,
    http.check,
    http.checkPaced,
    http.mine,
    http.minePaced,
    http.activations,
  ]) {
    lines.push(loadRow(run));
  }
  const failures = [http.check, http.checkPaced, http.mine, http.minePaced, http.activations]
    .flatMap((run) => run.failures.map((f) => `- ${run.title}: ${f.slice(0, 300)}`))
    .slice(0, 5);
  if (failures.length > 0) lines.push('', 'First failures:', '', ...failures);
  lines.push(
    '',
    `Server memory (RSS): ${fmt(r.memory.restMiB)} MiB at rest, ${fmt(r.memory.loadMiB)} MiB ` +
      `at most under load, ${fmt(r.memory.afterMiB)} MiB a second after the last run.`,
  );

  lines.push('', '### Query plans', '');
  for (const group of r.plans) {
    lines.push(`${group.title}:`, '');
    for (const query of group.queries) {
      lines.push('```sql', query.sql, '```', '```', query.plan, '```', '');
    }
  }
  return lines.join('\n');
}

export async function writeResults(
  settings: RunSettings,
  machine: Machine,
  results: DatabaseResults[],
  serve: { description: string; appDir: string | null },
  out = path.join(REPO, 'bench', 'RESULTS.md'),
): Promise<string> {
  const load = (values: number[] | undefined) => values?.map((v) => v.toFixed(2)).join(', ') ?? '';
  const busy = Math.max(machine.loadBefore[0] ?? 0, machine.loadAfter?.[0] ?? 0) > 1;
  const size = settings.size;
  // Runs of one database written elsewhere (`--only`, `--out`) are linked from each other.
  const others = fs
    .readdirSync(path.join(REPO, 'bench'))
    .filter((name) => /^RESULTS.*\.md$/.test(name) && name !== path.basename(out));
  const text = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${settings.quick ? ' -- --quick' : ''}\` on ` +
      `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC ` +
      `(${settings.quick ? 'a quick run, one twentieth of the full dataset' : 'a full run'}). ` +
      'Run it again to replace this file; the goals come from the performance section of the ' +
      'design references (two cores, about 1M assignments, 100k users, 5k groups).',
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${machine.cpu}, ${machine.cores} cores |`,
    `| Memory | ${machine.memoryGiB.toFixed(1)} GiB |`,
    `| OS | ${machine.os} |`,
    `| Node.js | ${machine.node} |`,
    ...results.map((r) => `| Database | ${r.version} |`),
    `| Load generator | autocannon ${machine.autocannon}, in the benchmark's own process |`,
    `| Load average (1, 5, 15 min) | before: ${load(machine.loadBefore)}; after: ` +
      `${load(machine.loadAfter)} |`,
    '',
    busy
      ? '**The machine was shared with other work during this run** (see the load average): ' +
        'figures that need the whole CPU, throughput above all, read lower than on a quiet ' +
        'machine and vary between runs.'
      : 'The machine was otherwise quiet during this run.',
    '',
    ...others.map((name) => `Figures of another run are in [${name}](${name}).\n`),
    ...results.map((r) => section(r, settings)),
    '',
    FINDINGS,
    '',
    '## How it is measured',
    '',
    `- **Dataset**: ${size.users.toLocaleString('en-US')} users, ` +
      `${size.groups.toLocaleString('en-US')} role-assignable groups holding two roles each ` +
      '(and 1% of users holding Global Reader directly), ' +
      `${(size.users * size.eligibilitiesPerUser).toLocaleString('en-US')} eligibility ` +
      `schedules (${size.eligibilitiesPerUser} groups per user), ` +
      `${size.assignments.toLocaleString('en-US')} active assignments (80% activated from an ` +
      'eligibility, 20% assigned; windows containing now), the request that made each schedule, ' +
      `${size.standingMembers.toLocaleString('en-US')} standing memberships, and every group ` +
      'onboarded to PIM with the default policies. It is written with Kysely in multi-row ' +
      'inserts inside transactions (bench/dataset.ts), then `analyze`d. The jobs cursors are set ' +
      'to the time of the build, as on a system that has been running: nothing is due.',
    '- **In-process check**: `AccessService.roleIdsOf(userId)` of the app, for random users ' +
      '(all of whom hold a membership), awaited one at a time, each timed with ' +
      '`process.hrtime.bigint()` after 1 000 warm-up calls.',
    '- **Server under test**: a child process, `node --import tsx bench/server.ts`, which builds ' +
      'the app with `buildApp` exactly as `elevate serve` does (request logging at `info`, to a ' +
      'pipe nobody reads; jobs loop and email worker running) and listens on 127.0.0.1, port 0. ' +
      'A separate process keeps the load generator off the server’s event loop. ' +
      (serve.appDir
        ? 'It runs the `tsc` build of src/ made for the start-up measurement, as `npm start` ' +
          'would; only bench/server.ts itself goes through tsx.'
        : 'It runs the sources through tsx, which adds its compiler’s memory to the RSS.'),
    `- **HTTP runs**: autocannon with ${settings.connections} connections for ` +
      `${settings.seconds} s per run, as fast as the server answers (throughput). Then each ` +
      'route at half that rate, paced evenly in an open loop over kept-alive sockets (latency ' +
      'under load: at saturation a closed loop only measures its own queue, and autocannon’s ' +
      'rate limit sends each second’s quota in one burst at full load). No request waits for ' +
      'an earlier answer, so a stall is charged to every request sent during it. ' +
      'Every request carries another ' +
      `user's bearer token (a pool of ${settings.tokenPool} tokens issued with ` +
      '`app.services.tokens.issue`), and asks about that user. Latencies are taken from every ' +
      "response with sub-millisecond precision, not from autocannon's whole-millisecond " +
      'histogram. Server CPU is the child’s CPU time over the run.',
    `- **Activations**: ${settings.activations.toLocaleString('en-US')} \`selfActivate\` ` +
      'requests, each by a different eligible user with its own token, 16 connections, through ' +
      'the whole path (token, validation, policy, one transaction with the request, the ' +
      'schedule, the audit event and the outbox emails). The schedules written are counted in ' +
      'the database afterwards.',
    '- **Memory**: the server process’s `process.memoryUsage().rss`, a second after start ' +
      '(at rest), every 250 ms during the runs (under load, the largest value), and a second ' +
      'after the last run.',
    `- **Start-up**: ${serve.description}, on the populated database, from spawning the process ` +
      'to the first 200 from `/healthz` (polled every 5 ms).',
    `- **Expiry catch-up**: ${size.overdue.toLocaleString('en-US')} schedules (70% ` +
      'activations, 30% eligibilities) that ended in the past week but still read ' +
      '`Provisioned` are added, then `app.jobs.runPass()` is timed: each batch marks its ' +
      'schedules `Expired`, writes their audit events and, for eligibilities, the "ended" email ' +
      'to the outbox, in one transaction.',
    '',
  ].join('\n');

  // Formatted as the project formats its files, so that `prettier --check .` stays clean.
  const file = path.resolve(out);
  const options = (await prettier.resolveConfig(file)) ?? {};
  fs.writeFileSync(file, await prettier.format(text, { ...options, parser: 'markdown' }));
  return file;
}

export function printSummary(results: DatabaseResults[]): void {
  for (const r of results) {
    process.stdout.write(`\n${r.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}:\n`);
    for (const goal of goals(r)) {
      const mark = goal.met === null ? '?' : goal.met ? 'ok' : 'MISSED';
      process.stdout.write(`  [${mark}] ${goal.name}: ${goal.measured} (target ${goal.target})\n`);
    }
  }
}
