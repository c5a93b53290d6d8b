/** Where a command writes; tests and scripts read stdout, people read both. */
export interface Output {
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

export function consoleOutput(json: boolean): Output {
  return {
    json,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

/** Machine-readable output: one JSON document on stdout, indented for people who peek. */
export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, null, 2));
}

const MAX_CELL = 48;

/**
 * Columns aligned with two spaces between them. Long cells are cut with an ellipsis so that a
 * row fits on a line; --json gives every value in full.
 */
export function table(headers: string[], rows: (string | null | undefined)[][]): string {
  const cells = rows.map((row) => headers.map((_, i) => cell(row[i])));
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => row[i]?.length ?? 0)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `label: value` lines, with the labels aligned. */
export function fields(pairs: [string, string | null | undefined][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs
    .map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value || '-'}`)
    .join('\n');
}

/** A UTC instant for people, to the minute: `2026-06-01 11:00Z`. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

function cell(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  const flat = value.replace(/\s+/g, ' ');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
}
