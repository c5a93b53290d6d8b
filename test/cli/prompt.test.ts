import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { askHidden, InputLines } from '../../src/cli/prompt.js';
import { parseDate, parseDuration, parseSince } from '../../src/cli/parse.js';

function capture() {
  const output = new PassThrough();
  let written = '';
  output.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return { output, written: () => written };
}

describe('the password prompt', () => {
  it('shows the question but not what is typed', async () => {
    const input = new PassThrough();
    const { output, written } = capture();

    const answer = askHidden('Password for ada: ', { input, output, terminal: true });
    input.write('s3cret pass\r');

    assert.equal(await answer, 's3cret pass');
    assert.match(written(), /Password for ada: /);
    assert.ok(!written().includes('s3cret'), `echoed: ${JSON.stringify(written())}`);
  });

  it('reads piped input line by line, and null once it ends', async () => {
    const input = new PassThrough();
    const lines = new InputLines(input);

    input.write('first\nsec');
    input.end('ond\n');

    assert.equal(await lines.next(), 'first');
    assert.equal(await lines.next(), 'second');
    assert.equal(await lines.next(), null);
  });
});

describe('durations and dates as people type them', () => {
  it('turns short and ISO 8601 durations into ISO 8601', () => {
    assert.equal(parseDuration('90m'), 'PT1H30M');
    assert.equal(parseDuration('2h'), 'PT2H');
    assert.equal(parseDuration('1h30m'), 'PT1H30M');
    assert.equal(parseDuration('7d'), 'P7D');
    assert.equal(parseDuration('2w'), 'P14D');
    assert.equal(parseDuration('PT8H'), 'PT8H');
    assert.equal(parseDuration('p1d'), 'P1D');
  });

  it('refuses durations that are not durations, are empty, or have no fixed length', () => {
    for (const bad of ['', '2 hours', '5x', '0m', 'P1M', 'P1Y', 'PT0S', '3651d']) {
      assert.throws(() => parseDuration(bad), /duration/, bad);
    }
  });

  it('reads dates in ISO 8601 and answers them in UTC', () => {
    assert.equal(parseDate('2026-07-01T18:00:00+02:00'), '2026-07-01T16:00:00Z');
    assert.equal(parseDate('2026-07-01T18:00:00Z'), '2026-07-01T18:00:00Z');
    assert.throws(() => parseDate('next tuesday'), /not a date/);
    assert.throws(() => parseDate('1999-01-01'), /not a date/);
  });

  it('reads --since as a date or as a duration back from now', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    assert.equal(parseSince('1d', now), '2026-05-31T12:00:00Z');
    assert.equal(parseSince('90m', now), '2026-06-01T10:30:00Z');
    assert.equal(parseSince('2026-05-01T00:00:00Z', now), '2026-05-01T00:00:00Z');
  });
});
