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
  'Changed because of these measurements:',
  '',
  '- **Prepared statements are reused on SQLite** (`src/db/database.ts`). Kysely prepares every ' +
    'query anew; on this machine preparing a short query and running it took 150–210 µs against ' +
    '30–40 µs for running an already prepared one. The driver now keeps up to 1 000 prepared ' +
    'statements (least recently used dropped).',
  '- **Verified tokens are remembered until they expire** (`src/identity/tokens.ts`). Checking ' +
    'an ES256 signature with jose cost about 300 µs of CPU, more than the rest of a check. A ' +
    'token that passed is kept (up to 10 000, keyed by its whole text) and its expiry is ' +
    'compared on every use; the account is still read on every request, so disabling a user ' +
    'takes effect at once (test/identity/verified-tokens.test.ts).',
  '- **Effective roles as one list** (`src/directory/access.ts`). Written as ' +
    '`principal_id = ? or principal_id in (...)`, the check made PostgreSQL read every role ' +
    'assignment (`Seq Scan on role_assignments` under EXPLAIN ANALYZE); the user and its groups ' +
    'are now one `in (...)` list, which both databases can look up in the index (with the ' +
    'full 11 000 role assignments PostgreSQL plans a nested loop over the unique index; with the ' +
    'quick run’s 551 it still prefers to read them all, which is cheaper at that size).',
  '- **Migration `0006_performance`**: `pim_schedules_in_effect` (principal, kind, status, ' +
    'access, start, end, group) replaces `pim_schedules_principal`, so "the groups a principal ' +
    'belongs to now" is answered from the index alone: on the quick dataset the whole ' +
    'effective-roles query went from 120–250 µs to under 40 µs, because each match no longer ' +
    'reads a wide schedule row from a table far larger than the page cache. ' +
    '`pim_schedules_activated_using` stops the removal of an eligibility from scanning every ' +
    'schedule to find its activations (EXPLAIN QUERY PLAN showed `SCAN pim_schedules`).',
  '',
  'Where the remaining time goes, for the goals still missed:',
  '',
  '- **Read the server’s CPU per request, not only its throughput.** On a shared two-core ' +
    'machine the server gets what the load generator and the other work leave it: in the full ' +
    'SQLite run of RESULTS.md it used 0.60 of a core serving `/healthz`. Its CPU time per ' +
    'answer (server cores ÷ throughput in the HTTP table) is a better guide: there, about ' +
    '0.26 ms for `/healthz`, 2.1 ms for the check, 1.0 ms for "my eligible assignments" and ' +
    '12 ms for an activation. Those ratios, not the machine, keep the check under half of ' +
    '`/healthz`. Even they move between runs on this machine: an earlier full run, of code an ' +
    'hour older, measured 1.4 ms for the check, 10 ms for an ' +
    'activation and a start-up of 1.3–1.7 s (2.8–3.5 s here).',
  '- **Fixed cost of every request.** Even `/healthz` goes through helmet (whose ' +
    'content-security-policy directives are parsed on each response), the metrics hook, the ' +
    'request-id hook and request logging at `info`. The check adds token and account checks, the ' +
    'OData `$filter` parse (`@odata/parser`, about a sixth of the check’s CPU in a profile), ' +
    'Kysely building and compiling three queries, and the JSON answer; the SQL itself takes ' +
    'tens of microseconds. Latency at half the top rate is mostly queueing behind that CPU on a ' +
    'busy machine.',
  '- **The in-process check** is timed in wall-clock time in a process that shares the two ' +
    'cores with the rest of the machine; its SQL alone, with the covering index, took under ' +
    '40 µs on the quick dataset, and Kysely’s query building and compiling is most of the rest.',
  '- **Activations** cost about 10–12 ms of server CPU each, and SQLite runs one writer at a ' +
    'time. Each holds the write lock for its whole transaction (about 20 statements: the group, ' +
    'the user, both policies onboarded and loaded, the live schedules, pending requests, the ' +
    'eligibility, the request and schedule inserts, the audit event and its targets, the outbox ' +
    'email with its recipients resolved and rendered), then an fsync at commit ' +
    '(`synchronous = FULL`); after commit the jobs loop looks up its next due time and the email ' +
    'worker sends the new emails in the same process. The policy is loaded twice per activation, ' +
    'by the request engine and by the notifier, each time parsing 17 JSON rules and their ISO ' +
    '8601 durations. Caching policies per group (invalidated on change) and rendering emails in ' +
    'the worker rather than in the transaction are the next steps; both belong to their modules.',
  '- **Expiry catch-up** does per item what an activation does for its emails: each expired ' +
    'eligibility loads its group’s policy, resolves its recipients (the group’s owners and the ' +
    'administrators, one union query each) and renders an email; each expiry writes an audit ' +
    'event with three targets. That is CPU in the notifier and the audit log, not the claiming ' +
    'query, which walks `pim_schedules_end` (status, end) in order.',
  '- **Resident memory** includes SQLite’s page cache, capped at 64 MiB ' +
    '(`cache_size = -65536`), the 10 000 remembered tokens at most, Node’s heap after load (the ' +
    'garbage collector keeps what it grew to), and, when the server runs through tsx, its ' +
    'compiler and source maps.',
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
