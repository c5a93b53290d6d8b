import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HOUR, MINUTE } from '../support/clock.js';
import { describeEachDatabase, type TestElevate } from '../support/elevate.js';
import { activate, makeEligible } from '../pim/support.js';

async function scrape(elevate: TestElevate): Promise<string> {
  const response = await elevate.app.server.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return response.body;
}

/** The value of one series, such as `elevate_jobs_runs_total{result="success"}`; 0 if absent. */
function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describeEachDatabase('metrics', (elevate) => {
  it('serves Prometheus text without a token, counting requests by route pattern', async () => {
    const user = await elevate().createUser();
    const series = 'elevate_http_requests_total{method="GET",route="/v1.0/users/:id",status="200"}';
    const before = valueOf(await scrape(elevate()), series);

    assert.equal((await elevate().request('GET', `/v1.0/users/${user.id}`)).status, 200);
    assert.equal((await elevate().request('GET', `/v1.0/users/${user.id}`)).status, 200);

    const text = await scrape(elevate());
    assert.equal(valueOf(text, series), before + 2);
    assert.match(
      text,
      new RegExp(
        String.raw`elevate_http_request_duration_seconds_bucket\{le="0\.005",method="GET",` +
          String.raw`route="\/v1\.0\/users\/:id",status="200"\} \d+`,
      ),
    );
    assert.doesNotMatch(text, new RegExp(user.id));
    assert.match(text, /^process_resident_memory_bytes \d+/m);
  });

  it('counts passes and items; shows the backlog and its lag until a pass clears it', async () => {
    const group = await elevate().createGroup();
    const user = await elevate().createUser();
    await makeEligible(elevate(), user, group.id);
    assert.equal((await activate(elevate(), user, group.id, { duration: 'PT1H' })).status, 201);
    await elevate().app.jobs.runPass();
    const runs = valueOf(await scrape(elevate()), 'elevate_jobs_runs_total{result="success"}');
    const expiredSeries = 'elevate_jobs_items_total{kind="expired"}';
    const expired = valueOf(await scrape(elevate()), expiredSeries);

    elevate().clock.advance(HOUR + 5 * MINUTE);
    const waiting = await scrape(elevate());
    assert.equal(valueOf(waiting, 'elevate_jobs_due_backlog'), 1);
    assert.equal(valueOf(waiting, 'elevate_jobs_oldest_due_lag_seconds'), 300);

    await elevate().app.jobs.runPass();
    const after = await scrape(elevate());
    assert.equal(valueOf(after, 'elevate_jobs_runs_total{result="success"}'), runs + 1);
    assert.equal(valueOf(after, expiredSeries), expired + 1);
    assert.equal(valueOf(after, 'elevate_jobs_due_backlog'), 0);
    assert.equal(valueOf(after, 'elevate_jobs_oldest_due_lag_seconds'), 0);
    assert.equal(valueOf(after, 'elevate_jobs_run_duration_seconds_count'), runs + 1);
  });
});
