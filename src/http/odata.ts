import { defaultParser } from '@odata/parser';
import { sql, type Expression, type SelectQueryBuilder, type Simplify, type SqlBool } from 'kysely';
import { badRequest } from './errors.js';
import { boundInteger } from '../db/prepared.js';

// Graph's query options ($filter, $select, $expand, $orderby, $top, $skiptoken, $count) for every
// list endpoint: parsed with a real OData parser, checked against a collection's allow-list, and
// turned into Kysely conditions that behave the same on SQLite and PostgreSQL.

/** How a property's literals are read and compared. */
export type FieldType = 'string' | 'guid' | 'boolean' | 'datetime' | 'enum' | 'integer';

/**
 * Operators a property may allow in `$filter`. `in` is accepted wherever `eq` is, because OData
 * defines `p in (a, b)` as `p eq a or p eq b`.
 */
export type Operator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'startswith';

export type ComparisonOperator = Exclude<Operator, 'startswith'>;

/** One property of a collection, as Graph names it, and where it is stored. */
export interface FieldSpec {
  /** SQL column reference, such as `users.display_name`. */
  column: string;
  /**
   * Booleans are stored as integers 0 and 1; date-times as `Date.toISOString()` text, so they
   * compare correctly as text; GUIDs in lower case.
   */
  type: FieldType;
  /** Operators allowed in `$filter`; `eq` and `ne` when absent. */
  operators?: readonly Operator[];
  /** Allowed in `$orderby`. */
  sortable?: boolean;
  /** Strings only: `eq`, `ne`, comparisons and ordering ignore case, as Graph does for names. */
  caseInsensitive?: boolean;
  /** Enums only: the stored spellings. Literals match them in any case. */
  enumValues?: readonly string[];
}

/**
 * A collection property that `$filter` can reach with `any`, such as audit events'
 * `targetResources/any(t: t/id eq '...')`.
 */
export interface LambdaSpec {
  /** The properties of one element, keyed by the name after the lambda variable (`t/id`: `id`). */
  fields: Readonly<Record<string, FieldSpec>>;
  /**
   * Turns a condition on one element into a condition on the listed row, typically
   * `exists (select 1 from audit_targets where event_id = audit_events.id and <condition>)`.
   */
  any: (condition: Expression<SqlBool>) => Expression<SqlBool>;
}

/** What `$expand` may name below a property, and what `$select` may keep there. */
export interface ExpandSpec {
  selectable?: readonly string[];
  expandable?: Readonly<Record<string, ExpandSpec>>;
}

/** The query options one list endpoint supports. */
export interface CollectionSpec {
  /** Filterable and sortable properties, keyed by Graph's name or path (`initiatedBy/user/id`). */
  fields: Readonly<Record<string, FieldSpec>>;
  lambdas?: Readonly<Record<string, LambdaSpec>>;
  /** Properties `$select` may name. */
  selectable: readonly string[];
  /** Properties `$expand` may name, with what may be selected and expanded below them. */
  expandable?: Readonly<Record<string, ExpandSpec>>;
  /**
   * The order without `$orderby`. Its last column must be unique: it is appended to every
   * `$orderby`, so that rows never move between pages.
   */
  defaultOrderBy: readonly { column: string; direction: 'asc' | 'desc' }[];
  /** Largest `$top`; 999 when absent, as in Graph. */
  maxTop?: number;
  /** Page size without `$top`; 100 when absent. */
  defaultTop?: number;
}

/** A literal as stored: booleans as 0 or 1, enums in their stored spelling, times as ISO text. */
export type FilterValue = string | number | null;

/** A `$filter` after validation, with every property resolved to its column. */
export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | {
      kind: 'compare';
      property: string;
      column: string;
      operator: ComparisonOperator;
      value: FilterValue;
      ignoreCase: boolean;
    }
  | { kind: 'startswith'; property: string; column: string; prefix: string }
  | { kind: 'any'; property: string; lambda: LambdaSpec; predicate: FilterNode | null };

export interface ExpandItem {
  name: string;
  /** The nested `$select`, or null for every property. */
  select: string[] | null;
  expand: ExpandItem[];
}

export interface OrderByItem {
  column: string;
  direction: 'asc' | 'desc';
  ignoreCase: boolean;
}

/** The query options of one request, validated against a `CollectionSpec`. */
export interface ODataQuery {
  filter: FilterNode | null;
  /** The `$select`ed properties, or null for every property. */
  select: string[] | null;
  expand: ExpandItem[];
  /** Always ends with the collection's unique column. */
  orderBy: OrderByItem[];
  top: number;
  skip: number;
  count: boolean;
}

export interface Page<T> {
  items: T[];
  /** The offset of the next page, or null on the last page. */
  nextSkip: number | null;
  /** All matches, when `$count=true` was asked. */
  count: number | null;
}

export interface CollectionResponse<T> {
  '@odata.context': string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: T[];
}

const OPTIONS = ['filter', 'select', 'expand', 'orderby', 'top', 'skip', 'skiptoken', 'count'];
type Options = Partial<Record<string, string>>;

/**
 * The parser's run time grows fast with length and nesting, so both are bounded first; `in` lists
 * are written out as `eq` comparisons before parsing, which may grow a filter by half at most.
 */
const MAX_FILTER_LENGTH = 4000;
const MAX_EXPANDED_FILTER_LENGTH = 6000;
const MAX_NESTING = 20;

const QUOTE_LIMIT = 100;

/**
 * Reads and validates the OData query options of a request. Option names are accepted with or
 * without `$` and in any case, as OData 4.01 allows; other query parameters are left to the route.
 * Anything the collection does not support answers 400 with a message saying what to change.
 *
 * @example
 * const query = parseODataQuery(request.query, usersSpec); // Fastify's parsed query string
 */
export function parseODataQuery(query: unknown, spec: CollectionSpec): ODataQuery {
  const options = readOptions(query);
  const key = cacheKeyOf(options);
  const cache = parsedQueries.get(spec);
  const known = key === null ? undefined : cache?.get(key);
  if (known) return known;

  const parsed = deepFreeze(parseOptions(options, spec));
  if (key !== null) remember(spec, key, parsed);
  return parsed;
}

/**
 * Parsed queries by collection and by their options' text. Parsing is a pure function of the two:
 * the answer depends on nothing else (no clock, no caller, no database), so a cached answer is
 * exactly the one a fresh parse would give, and it is frozen so that no caller can change it for
 * the next. Only valid queries are kept; an invalid one is parsed again each time and fails with
 * the same error. Clients repeat the same few queries (a portal page polling, a service checking
 * one principal), which then skip the OData parser, the costliest step of a short list request.
 * A workload with more distinct queries than fit here gains nothing, and loses nothing either.
 */
const parsedQueries = new WeakMap<CollectionSpec, Map<string, ODataQuery>>();
const PARSED_CACHE_SIZE = 4096;
/** Longer option texts are rare and not worth the memory they would hold. */
const MAX_CACHED_KEY_LENGTH = 1024;

function cacheKeyOf(options: Options): string | null {
  // JSON keeps the options apart whatever characters they contain, so two different queries can
  // never share a key.
  const key = JSON.stringify(OPTIONS.map((name) => options[name] ?? null));
  return key.length > MAX_CACHED_KEY_LENGTH ? null : key;
}

function remember(spec: CollectionSpec, key: string, parsed: ODataQuery): void {
  let cache = parsedQueries.get(spec);
  if (!cache) {
    cache = new Map();
    parsedQueries.set(spec, cache);
  }

  cache.set(key, parsed);
  // Oldest first: a Map iterates in insertion order.
  if (cache.size > PARSED_CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
}

/**
 * Freezes what parsing built, down to its leaves. A lambda's spec belongs to the collection, not
 * to the query, so it is left as it is.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;

  for (const [key, member] of Object.entries(value)) {
    if (key !== 'lambda') deepFreeze(member);
  }
  return Object.freeze(value);
}

function parseOptions(options: Options, spec: CollectionSpec): ODataQuery {
  const maxTop = spec.maxTop ?? 999;

  return {
    filter: options.filter === undefined ? null : parseFilter(options.filter, spec),
    select: options.select === undefined ? null : parseSelect(options.select, spec.selectable),
    expand: options.expand === undefined ? [] : parseExpand(options.expand, spec.expandable),
    orderBy: parseOrderBy(options.orderby, spec),
    top:
      options.top === undefined
        ? Math.min(spec.defaultTop ?? 100, maxTop)
        : parseTop(options.top, maxTop),
    skip: parseSkip(options.skip, options.skiptoken),
    count: options.count === undefined ? false : parseCount(options.count),
  };
}

function readOptions(query: unknown): Options {
  const options: Options = {};
  // Fastify gives the parsed query string, or nothing when the URL has none.
  const entries = typeof query === 'object' && query !== null ? Object.entries(query) : [];

  for (const [key, value] of entries) {
    const prefixed = key.startsWith('$');
    const name = (prefixed ? key.slice(1) : key).toLowerCase();

    if (!OPTIONS.includes(name)) {
      // Without `$`, an unknown name is one of the route's own parameters.
      if (!prefixed) continue;
      const supported = OPTIONS.map((option) => `$${option}`).join(', ');
      throw badRequest(`Query option ${quote(key)} is not supported; supported are: ${supported}.`);
    }

    if (options[name] !== undefined || Array.isArray(value)) {
      throw badRequest(`Query option $${name} is given more than once.`);
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw badRequest(`Query option $${name} must be text.`);
    }

    const text = String(value).trim();
    if (text === '') throw badRequest(`Query option $${name} is empty.`);
    options[name] = text;
  }

  return options;
}

function parseTop(text: string, maxTop: number): number {
  const top = /^\d{1,9}$/.test(text) ? Number(text) : 0;
  if (top < 1 || top > maxTop) throw badRequest(`$top must be an integer from 1 to ${maxTop}.`);
  return top;
}

function parseCount(text: string): boolean {
  if (text !== 'true' && text !== 'false') throw badRequest('$count must be true or false.');
  return text === 'true';
}

function parseSkip(skip: string | undefined, skipToken: string | undefined): number {
  if (skip !== undefined && skipToken !== undefined) {
    throw badRequest('Give either $skip or $skiptoken, not both.');
  }

  if (skipToken !== undefined) return decodeSkipToken(skipToken);
  if (skip === undefined) return 0;

  if (!/^\d{1,15}$/.test(skip)) throw badRequest('$skip must be an integer of 0 or more.');
  return Number(skip);
}

// The token only carries an offset; it is opaque so that paging can change without breaking
// clients that follow `@odata.nextLink` as Graph asks them to.
function encodeSkipToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodeSkipToken(token: string): number {
  const offset = readOffset(token);

  // Re-encoding rejects every token this module did not write, whatever the decoder tolerated.
  if (
    typeof offset !== 'number' ||
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    encodeSkipToken(offset) !== token
  ) {
    throw badRequest('$skiptoken is not valid; follow the @odata.nextLink of the previous page.');
  }
  return offset;
}

function readOffset(token: string): unknown {
  try {
    return member(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')), 'offset');
  } catch {
    return undefined;
  }
}

// $filter

interface Scope {
  fields: Readonly<Record<string, FieldSpec>>;
  lambdas: Readonly<Record<string, LambdaSpec>>;
  /** Inside `any`: the lambda variable and the collection, to name in messages. */
  lambda: { variable: string; collection: string } | null;
}

const COMPARISONS: Readonly<Record<string, ComparisonOperator>> = {
  EqualsExpression: 'eq',
  NotEqualsExpression: 'ne',
  GreaterThanExpression: 'gt',
  GreaterOrEqualsExpression: 'ge',
  LesserThanExpression: 'lt',
  LesserOrEqualsExpression: 'le',
};

const INTEGER_LITERALS = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64']);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseFilter(text: string, spec: CollectionSpec): FilterNode {
  if (text.length > MAX_FILTER_LENGTH) {
    throw badRequest(`$filter is longer than ${MAX_FILTER_LENGTH} characters; split the query.`);
  }

  const source = prepareFilter(text);
  let root: ParsedToken;
  try {
    root = defaultParser.filter(source);
  } catch (error) {
    // Positions in a rewritten filter would not match what the caller wrote.
    throw syntaxError('$filter', text, source === text ? error : null, 0);
  }

  return toFilterNode(root, { fields: spec.fields, lambdas: spec.lambdas ?? {}, lambda: null });
}

/**
 * Checks string literals and nesting before the parser sees the filter, and rewrites
 * `p in (a, b)` into `(p eq a or p eq b)`, because the parser has no `in` operator.
 */
function prepareFilter(text: string): string {
  const inOperator = /\s+in\s*\(/y;
  const path = /(?<![\w/])[A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*$/;
  let result = '';
  let depth = 0;
  let index = 0;

  while (index < text.length) {
    const char = text.charAt(index);

    if (char === "'") {
      const end = endOfString(text, index);
      result += text.slice(index, end);
      index = end;
      continue;
    }

    inOperator.lastIndex = index;
    const operator = inOperator.exec(text);
    const property = operator ? path.exec(result) : null;
    if (operator && property) {
      const list = readInList(text, index + operator[0].length);
      const comparisons = list.values.map((value) => `${property[0]} eq ${value}`);
      result = `${result.slice(0, property.index)}(${comparisons.join(' or ')})`;
      index = list.end;
      continue;
    }

    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (depth > MAX_NESTING) throw badRequest(`$filter nests deeper than ${MAX_NESTING} levels.`);
    if (depth < 0) throw badRequest("$filter: a ')' has no matching '('.");

    result += char;
    index += 1;
  }

  if (depth > 0) throw badRequest("$filter: a '(' is not closed.");
  if (result.length > MAX_EXPANDED_FILTER_LENGTH) {
    throw badRequest("$filter: its 'in' lists are too long; split the query.");
  }
  return result;
}

function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    if (text.charAt(index) === "'") {
      if (text.charAt(index + 1) !== "'") return index + 1;
      index += 1;
    }
    index += 1;
  }
  throw badRequest("$filter: a string is not closed; write a quote inside a string as ''.");
}

function readInList(text: string, start: number): { values: string[]; end: number } {
  const unquoted = /[^\s,()']+/y;
  const values: string[] = [];
  let index = start;

  for (;;) {
    while (/\s/.test(text.charAt(index))) index += 1;

    let value: string | null = null;
    if (text.charAt(index) === "'") {
      const end = endOfString(text, index);
      value = text.slice(index, end);
    } else {
      unquoted.lastIndex = index;
      value = unquoted.exec(text)?.[0] ?? null;
    }
    if (value === null) {
      throw badRequest("$filter: 'in' takes a list of literals, as in id in ('a', 'b').");
    }
    values.push(value);
    index += value.length;

    while (/\s/.test(text.charAt(index))) index += 1;
    if (text.charAt(index) === ')') return { values, end: index + 1 };
    if (text.charAt(index) !== ',') {
      throw badRequest("$filter: 'in' takes a list of literals, as in id in ('a', 'b').");
    }
    index += 1;
  }
}

/**
 * The parser lets `not` take everything after it, reading `not a eq 1 or b eq 2` as
 * `not (a eq 1 or b eq 2)`, where OData binds `not` tighter than `and`, and `and` tighter than
 * `or`. So its tree is laid back out in the order written and regrouped here.
 */
function toFilterNode(token: ParsedToken, scope: Scope): FilterNode {
  const parts: BooleanPart[] = [];
  flatten(token, parts);

  const reader = { parts, next: 0 };
  const node = readOr(reader, scope);
  if (reader.next !== parts.length) throw badRequest(`$filter: cannot parse ${quote(token.raw)}.`);
  return node;
}

type BooleanPart = 'and' | 'or' | 'not' | ParsedToken;

interface PartReader {
  parts: BooleanPart[];
  next: number;
}

function flatten(token: ParsedToken, parts: BooleanPart[]): void {
  switch (token.type) {
    case 'CommonExpression':
    case 'LambdaPredicateExpression':
      flatten(tokenIn(token.value, token), parts);
      return;

    case 'AndExpression':
    case 'OrExpression':
      flatten(tokenAt(token.value, 'left', token), parts);
      parts.push(token.type === 'AndExpression' ? 'and' : 'or');
      flatten(tokenAt(token.value, 'right', token), parts);
      return;

    case 'NotExpression':
      parts.push('not');
      flatten(tokenIn(token.value, token), parts);
      return;

    default:
      parts.push(token);
  }
}

function readOr(reader: PartReader, scope: Scope): FilterNode {
  let node = readAnd(reader, scope);
  while (reader.parts[reader.next] === 'or') {
    reader.next += 1;
    node = { kind: 'or', left: node, right: readAnd(reader, scope) };
  }
  return node;
}

function readAnd(reader: PartReader, scope: Scope): FilterNode {
  let node = readNot(reader, scope);
  while (reader.parts[reader.next] === 'and') {
    reader.next += 1;
    node = { kind: 'and', left: node, right: readNot(reader, scope) };
  }
  return node;
}

function readNot(reader: PartReader, scope: Scope): FilterNode {
  const part = reader.parts[reader.next];
  reader.next += 1;

  if (part === 'not') return { kind: 'not', operand: readNot(reader, scope) };
  if (part === undefined || typeof part === 'string') {
    throw badRequest('$filter: a condition is missing around and, or or not.');
  }
  return toCondition(part, scope);
}

function toCondition(token: ParsedToken, scope: Scope): FilterNode {
  const comparison = COMPARISONS[token.type];
  if (comparison) return toComparison(token, comparison, scope);

  switch (token.type) {
    case 'BoolParenExpression':
      return toFilterNode(tokenIn(token.value, token), scope);

    case 'MethodCallExpression':
      return toStartsWith(token, scope);

    case 'FirstMemberExpression':
    case 'MemberExpression':
      return toLambda(token, scope);

    default:
      throw badRequest(
        `$filter: ${quote(token.raw)} is not supported; use eq, ne, gt, ge, lt, le, in, ` +
          'startswith, and, or, not and any.',
      );
  }
}

function toComparison(token: ParsedToken, operator: ComparisonOperator, scope: Scope): FilterNode {
  const left = tokenAt(token.value, 'left', token);
  const right = tokenAt(token.value, 'right', token);
  if (right.type !== 'Literal') {
    throw badRequest(
      "$filter: write the property first and a literal second, as in displayName eq 'Alice'.",
    );
  }

  const { property, field } = resolveField(left, scope);
  requireOperator(property, field, operator);
  const value = readLiteral(right, property, field, operator);

  return {
    kind: 'compare',
    property,
    column: field.column,
    operator,
    value,
    ignoreCase: ignoresCase(field),
  };
}

function toStartsWith(token: ParsedToken, scope: Scope): FilterNode {
  const method = member(token.value, 'method');
  if (method !== 'startswith') {
    throw badRequest(
      `$filter: function ${quote(String(method))} is not supported; use startswith.`,
    );
  }

  const [target, prefix] = tokensIn(member(token.value, 'parameters'), token);
  if (!target || !prefix || prefix.type !== 'Literal' || prefix.value !== 'Edm.String') {
    throw badRequest("$filter: write startswith(property, 'text').");
  }

  const { property, field } = resolveField(target, scope);
  requireOperator(property, field, 'startswith');
  return { kind: 'startswith', property, column: field.column, prefix: unquote(prefix.raw) };
}

function toLambda(token: ParsedToken, scope: Scope): FilterNode {
  const { segments, lambda } = readPath(token) ?? { segments: [], lambda: null };
  if (!lambda) {
    throw badRequest(
      `$filter: ${quote(token.raw)} is not a condition; compare it, as in accountEnabled eq true.`,
    );
  }

  const property = segments.join('/');
  const spec = scope.lambda === null ? own(scope.lambdas, property) : undefined;
  if (!spec) {
    const supported = Object.keys(scope.lambdas).map((name) => `${name}/any(...)`);
    throw badRequest(
      `$filter: ${quote(`${property}/${lambda.type === 'AllExpression' ? 'all' : 'any'}`)} is ` +
        `not supported; supported are: ${listed(supported)}.`,
    );
  }
  if (lambda.type !== 'AnyExpression') {
    throw badRequest(`$filter: ${property} supports any(...), not all(...).`);
  }

  const variable = member(member(lambda.value, 'variable'), 'value');
  const predicate = member(lambda.value, 'predicate');
  if (predicate === undefined) return { kind: 'any', property, lambda: spec, predicate: null };

  const inner: Scope = {
    fields: spec.fields,
    lambdas: {},
    lambda: { variable: String(member(variable, 'name')), collection: property },
  };
  return {
    kind: 'any',
    property,
    lambda: spec,
    predicate: toFilterNode(tokenIn(predicate, token), inner),
  };
}

function resolveField(token: ParsedToken, scope: Scope): { property: string; field: FieldSpec } {
  const path = readPath(token);
  if (!path || path.lambda || path.segments.length === 0) {
    throw badRequest(`$filter: ${quote(token.raw)} cannot be compared; name a property.`);
  }

  // Inside `t: ...`, a property is written `t/id`; the variable itself names no column.
  let segments = path.segments;
  if (scope.lambda) {
    const { variable, collection } = scope.lambda;
    if (segments[0] !== variable || segments.length === 1) {
      throw badRequest(
        `$filter: inside ${collection}/any, name a property through '${variable}', ` +
          `as in ${variable}/${Object.keys(scope.fields)[0] ?? 'id'}.`,
      );
    }
    segments = segments.slice(1);
  }

  const property = segments.join('/');
  const field = own(scope.fields, property);
  if (!field) {
    const where = scope.lambda ? `properties of ${scope.lambda.collection}` : 'properties';
    const lambdas = Object.keys(scope.lambdas).map((name) => `${name}/any(...)`);
    throw badRequest(
      `$filter: property ${quote(property)} is not supported; filterable ${where} are: ` +
        `${listed([...Object.keys(scope.fields), ...lambdas])}.`,
    );
  }

  return { property, field };
}

function requireOperator(property: string, field: FieldSpec, operator: Operator): void {
  const allowed = field.operators ?? ['eq', 'ne'];
  if (allowed.includes(operator)) return;

  throw badRequest(
    `$filter: operator '${operator}' is not supported on '${property}'; ` +
      `it supports: ${listed(allowed)}.`,
  );
}

function readLiteral(
  token: ParsedToken,
  property: string,
  field: FieldSpec,
  operator: ComparisonOperator,
): FilterValue {
  const edmType = token.value;
  const raw = token.raw;
  const expected = (what: string) =>
    badRequest(`$filter: '${property}' takes ${what}, not ${cap(raw)}.`);

  if (edmType === 'null') {
    if (operator === 'eq' || operator === 'ne') return null;
    throw badRequest('$filter: null can only be compared with eq or ne.');
  }

  switch (field.type) {
    case 'string':
      if (edmType === 'Edm.String') return unquote(raw);
      // An unquoted GUID is still text to a string property.
      if (edmType === 'Edm.Guid') return raw;
      throw expected("a string such as 'text'");

    case 'guid': {
      const text = edmType === 'Edm.Guid' ? raw : edmType === 'Edm.String' ? unquote(raw) : '';
      if (!GUID.test(text)) throw expected('a GUID');
      return text.toLowerCase();
    }

    case 'boolean':
      if (edmType !== 'Edm.Boolean') throw expected('true or false');
      return raw === 'true' ? 1 : 0;

    case 'datetime': {
      const time =
        edmType === 'Edm.DateTimeOffset' || edmType === 'Edm.Date' ? new Date(raw) : null;
      const iso = time && !Number.isNaN(time.getTime()) ? time.toISOString() : '';
      // Stored times are ISO text, which orders correctly only within years 0000 to 9999.
      if (!/^\d{4}-/.test(iso)) throw expected('a date and time such as 2026-01-01T00:00:00Z');
      return iso;
    }

    case 'enum': {
      if (edmType !== 'Edm.String') throw expected("a quoted value such as 'member'");
      const text = unquote(raw).toLowerCase();
      const values = field.enumValues ?? [];
      const value = values.find((candidate) => candidate.toLowerCase() === text);
      if (value === undefined) throw expected(`one of ${listed(values)}`);
      return value;
    }

    case 'integer': {
      const value = INTEGER_LITERALS.has(String(edmType)) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(value)) throw expected('an integer');
      return value;
    }
  }
}

function ignoresCase(field: FieldSpec): boolean {
  return field.type === 'string' && field.caseInsensitive === true;
}

interface PropertyPath {
  segments: string[];
  /** The `any(...)` or `all(...)` that ends the path, if one does. */
  lambda: ParsedToken | null;
}

/**
 * Reads `$filter` and `$orderby` paths such as `initiatedBy/user/id`, `t/id` and
 * `targetResources/any(...)`; null for anything else.
 */
function readPath(token: ParsedToken): PropertyPath | null {
  const value = token.value;

  switch (token.type) {
    case 'CommonExpression':
    case 'FirstMemberExpression':
    case 'MemberExpression':
    case 'SingleNavigationExpression': {
      // Inside a lambda the parser gives `t/id` as [variable, member].
      const parts = (Array.isArray(value) ? value : [value]).map((part: unknown) =>
        isToken(part) ? readPath(part) : null,
      );
      if (parts.some((part) => part === null)) return null;
      const read = parts.filter((part) => part !== null);
      return {
        segments: read.flatMap((part) => part.segments),
        lambda: read.find((part) => part.lambda)?.lambda ?? null,
      };
    }

    case 'LambdaVariableExpression':
    case 'ODataIdentifier': {
      const name = member(value, 'name');
      return typeof name === 'string' ? { segments: [name], lambda: null } : null;
    }

    case 'PropertyPathExpression': {
      if (isToken(value)) return readPath(value);
      const head = member(value, 'current');
      const tail = member(value, 'next');
      const first = isToken(head) ? readPath(head) : null;
      const rest = isToken(tail) ? readPath(tail) : null;
      if (!first || !rest) return null;
      return { segments: [...first.segments, ...rest.segments], lambda: rest.lambda };
    }

    case 'CollectionPathExpression':
      return isToken(value) ? { segments: [], lambda: value } : null;

    default:
      return null;
  }
}

/**
 * The condition of a validated `$filter`, for `.where()`. OData's comparisons are never unknown:
 * `mail ne 'x'` holds for a user without mail, so `ne` and `not` treat SQL's null accordingly.
 */
export function filterExpression(filter: FilterNode): Expression<SqlBool> {
  switch (filter.kind) {
    case 'and':
      return sql<SqlBool>`(${filterExpression(filter.left)} and ${filterExpression(filter.right)})`;

    case 'or':
      return sql<SqlBool>`(${filterExpression(filter.left)} or ${filterExpression(filter.right)})`;

    case 'not':
      return sql<SqlBool>`((${filterExpression(filter.operand)}) is not true)`;

    case 'compare':
      return compare(filter.column, filter.operator, filter.value, filter.ignoreCase);

    case 'startswith': {
      // `lower() like lower()` with an explicit escape reads the same on SQLite and PostgreSQL.
      const pattern = `${filter.prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      return sql<SqlBool>`(lower(${sql.ref(filter.column)}) like lower(${pattern}) escape '\\')`;
    }

    case 'any':
      return filter.lambda.any(
        filter.predicate ? filterExpression(filter.predicate) : sql<SqlBool>`(1 = 1)`,
      );
  }
}

const SQL_OPERATORS: Readonly<Record<ComparisonOperator, string>> = {
  eq: '=',
  ne: '<>',
  gt: '>',
  ge: '>=',
  lt: '<',
  le: '<=',
};

function compare(
  column: string,
  operator: ComparisonOperator,
  value: FilterValue,
  ignoreCase: boolean,
): Expression<SqlBool> {
  const ref = sql.ref(column);
  if (value === null) {
    return operator === 'eq' ? sql<SqlBool>`(${ref} is null)` : sql<SqlBool>`(${ref} is not null)`;
  }

  const left = ignoreCase ? sql`lower(${ref})` : ref;
  const right = ignoreCase ? sql`lower(${value})` : sql`${value}`;
  const condition = sql<SqlBool>`(${left} ${sql.raw(SQL_OPERATORS[operator])} ${right})`;

  return operator === 'ne' ? sql<SqlBool>`(${condition} or ${ref} is null)` : condition;
}

/** Adds a validated `$filter` to a query; a null filter leaves it as it is. */
export function applyODataFilter<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  filter: FilterNode | null,
): SelectQueryBuilder<DB, TB, O> {
  return filter === null ? qb : qb.where(filterExpression(filter));
}

/**
 * The value `filter` requires of `property` through `eq` in its top-level `and`s, as a route
 * needs for `$filter=groupId eq '...'`; undefined when it requires none.
 */
export function findEquality(filter: FilterNode | null, property: string): FilterValue | undefined {
  if (filter === null) return undefined;

  if (filter.kind === 'and') {
    const left = findEquality(filter.left, property);
    return left === undefined ? findEquality(filter.right, property) : left;
  }
  if (filter.kind === 'compare' && filter.property === property && filter.operator === 'eq') {
    return filter.value;
  }
  return undefined;
}

// $select, $expand, $orderby

function parseSelect(text: string, selectable: readonly string[]): string[] | null {
  return readSelect(parseOption('select', text), selectable, '$select');
}

function readSelect(
  token: ParsedToken,
  selectable: readonly string[],
  where: string,
): string[] | null {
  const names: string[] = [];

  for (const item of tokensIn(member(token.value, 'items'), token)) {
    if (member(item.value, 'value') === '*') return null;

    const name = item.raw;
    if (!selectable.includes(name)) {
      throw badRequest(
        `${where}: property ${quote(name)} is not supported; selectable properties are: ` +
          `${listed(selectable)}.`,
      );
    }
    if (!names.includes(name)) names.push(name);
  }

  return names;
}

function parseExpand(
  text: string,
  expandable: Readonly<Record<string, ExpandSpec>> | undefined,
): ExpandItem[] {
  return readExpand(parseOption('expand', text), expandable ?? {}, null);
}

/** `parent` is the path of the expansion this one is nested in, such as `policy/rules`. */
function readExpand(
  token: ParsedToken,
  expandable: Readonly<Record<string, ExpandSpec>>,
  parent: string | null,
): ExpandItem[] {
  const where = parent === null ? '$expand' : `$expand inside the expansion of ${parent}`;
  const supported = `expandable properties are: ${listed(Object.keys(expandable))}`;
  const items: ExpandItem[] = [];

  for (const item of tokensIn(member(token.value, 'items'), token)) {
    const path = member(item.value, 'path');
    if (!isToken(path)) throw badRequest(`${where}: name the properties to expand; ${supported}.`);

    const name = path.raw;
    const spec = own(expandable, name);
    if (!spec) {
      throw badRequest(`${where}: property ${quote(name)} cannot be expanded; ${supported}.`);
    }
    if (items.some((expanded) => expanded.name === name)) {
      throw badRequest(`${where}: ${name} is expanded twice.`);
    }

    const expanded: ExpandItem = { name, select: null, expand: [] };
    const nested = parent === null ? name : `${parent}/${name}`;
    const options = member(item.value, 'options');
    for (const option of options === undefined ? [] : tokensIn(options, item)) {
      if (option.type === 'Select') {
        const within = `$select inside the expansion of ${nested}`;
        expanded.select = readSelect(option, spec.selectable ?? [], within);
      } else if (option.type === 'Expand') {
        expanded.expand = readExpand(option, spec.expandable ?? {}, nested);
      } else {
        throw badRequest(`$expand of ${nested}: only $select and $expand are supported inside.`);
      }
    }
    items.push(expanded);
  }

  return items;
}

function parseOrderBy(text: string | undefined, spec: CollectionSpec): OrderByItem[] {
  // A column orders the same with or without $orderby: names ignore case either way.
  const defaults = spec.defaultOrderBy.map((item) => ({
    ...item,
    ignoreCase: Object.values(spec.fields).some(
      (field) => field.column === item.column && ignoresCase(field),
    ),
  }));
  if (text === undefined) return defaults;

  const sortable = Object.keys(spec.fields).filter((name) => spec.fields[name]?.sortable);
  const items: OrderByItem[] = [];
  const token = parseOption('orderby', text);

  for (const item of tokensIn(member(token.value, 'items'), token)) {
    const path = readPath(tokenAt(item.value, 'expr', item));
    const property = path ? path.segments.join('/') : item.raw;
    const field = path && !path.lambda ? own(spec.fields, property) : undefined;
    if (!field?.sortable) {
      throw badRequest(
        `$orderby: property ${quote(property)} is not sortable; sortable properties are: ` +
          `${listed(sortable)}.`,
      );
    }

    const direction = member(item.value, 'direction') === -1 ? 'desc' : 'asc';
    if (!items.some((ordered) => ordered.column === field.column)) {
      items.push({ column: field.column, direction, ignoreCase: ignoresCase(field) });
    }
  }

  // Without a unique last column, rows that tie could move between pages.
  const unique = defaults.at(-1);
  if (unique && !items.some((item) => item.column === unique.column && !item.ignoreCase)) {
    items.push(unique);
  }
  return items;
}

function parseOption(name: string, text: string): ParsedToken {
  const source = `$${name}=${text}`;
  let parsed: ParsedToken;
  try {
    parsed = defaultParser.query(source);
  } catch (error) {
    throw syntaxError(`$${name}`, text, error, source.length - text.length);
  }

  // A value holding `&` would parse as several options; only the one asked for is accepted.
  const options = tokensIn(member(parsed.value, 'options'), parsed);
  const option = options[0];
  if (options.length !== 1 || !option || option.raw !== source) {
    throw badRequest(`$${name}: cannot parse ${quote(text)}.`);
  }
  return option;
}

// Running a list query and answering it

/**
 * Runs one page of a list: the route's query (joins, its own conditions and the selected
 * columns, without ordering), with the `$filter`, the order, `$top` and the offset applied.
 * With `$count=true` it also counts every match. The query must yield one row per item.
 *
 * @example
 * const page = await listPage(db.selectFrom('users').selectAll(), query);
 */
export async function listPage<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  query: ODataQuery,
): Promise<Page<Simplify<O>>> {
  const filtered = applyODataFilter(qb, query.filter);

  // One row more than the page tells whether another page follows, without counting.
  const rows = await applyOrderBy(filtered, query.orderBy)
    .limit(boundInteger(query.top + 1))
    .offset(boundInteger(query.skip))
    .execute();
  const more = rows.length > query.top;
  const items = more ? rows.slice(0, query.top) : rows;

  const count = query.count ? await countMatches(filtered, query.skip, items.length, more) : null;
  return { items, nextSkip: more ? query.skip + query.top : null, count };
}

function applyOrderBy<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  orderBy: readonly OrderByItem[],
): SelectQueryBuilder<DB, TB, O> {
  let ordered = qb;
  for (const item of orderBy) {
    const ref = sql.ref(item.column);
    // SQLite sorts nulls first and PostgreSQL last; saying it makes both page alike.
    ordered = ordered.orderBy(item.ignoreCase ? sql`lower(${ref})` : ref, (builder) =>
      item.direction === 'asc' ? builder.asc().nullsFirst() : builder.desc().nullsLast(),
    );
  }
  return ordered;
}

async function countMatches<DB, TB extends keyof DB, O>(
  filtered: SelectQueryBuilder<DB, TB, O>,
  skip: number,
  found: number,
  more: boolean,
): Promise<number> {
  // A last page that holds rows already tells the total.
  if (!more && (found > 0 || skip === 0)) return skip + found;

  const row = await filtered
    .clearSelect()
    .clearOrderBy()
    .select(sql<number | string>`count(*)`.as('count'))
    .executeTakeFirstOrThrow();
  // Kysely cannot name the selection's type while the table types are generic, so the row is read
  // by key. PostgreSQL answers count(*) as a bigint, which pg hands over as a string.
  return Number(member(row, 'count'));
}

/**
 * The link to the next page: the request as the client sent it (Fastify's
 * `request.originalUrl`), on the public URL, with `$skiptoken` in place of any paging option.
 */
export function nextLinkFor(requestUrl: string, publicUrl: string, nextSkip: number): string;
export function nextLinkFor(requestUrl: string, publicUrl: string, nextSkip: null): null;
export function nextLinkFor(
  requestUrl: string,
  publicUrl: string,
  nextSkip: number | null,
): string | null;
export function nextLinkFor(
  requestUrl: string,
  publicUrl: string,
  nextSkip: number | null,
): string | null {
  if (nextSkip === null) return null;

  const absolute = /^https?:\/\//i.test(requestUrl) ? new URL(requestUrl) : null;
  const relative = absolute ? absolute.pathname + absolute.search : requestUrl;
  const queryStart = relative.indexOf('?');
  const path = queryStart === -1 ? relative : relative.slice(0, queryStart);
  const search = queryStart === -1 ? '' : relative.slice(queryStart + 1);

  // The client's other parameters are kept byte for byte, so its encoding survives.
  const kept = search.split('&').filter((pair) => pair !== '' && !isPagingParameter(pair));
  kept.push(`$skiptoken=${encodeSkipToken(nextSkip)}`);
  return `${publicUrl.replace(/\/+$/, '')}${path}?${kept.join('&')}`;
}

function isPagingParameter(pair: string): boolean {
  const key = pair.split('=', 1)[0] ?? '';
  let name: string;
  try {
    name = decodeURIComponent(key);
  } catch {
    name = key;
  }
  return ['skiptoken', 'skip'].includes(name.replace(/^\$/, '').toLowerCase());
}

/**
 * Graph's collection body. `@odata.count` and `@odata.nextLink` appear only when given, and before
 * `value`, as Graph writes them.
 */
export function collectionResponse<T>(
  value: T[],
  options: { context: string; count?: number | null; nextLink?: string | null },
): CollectionResponse<T> {
  return {
    '@odata.context': options.context,
    ...(options.count === undefined || options.count === null
      ? {}
      : { '@odata.count': options.count }),
    ...(options.nextLink ? { '@odata.nextLink': options.nextLink } : {}),
    value,
  };
}

const ALWAYS_SELECTED = ['id', '@odata.type'];

/**
 * Keeps the `$select`ed properties of an item, its `id` and `@odata.type`, and the properties
 * it was expanded with. A null selection keeps everything.
 */
export function applySelect<T extends object>(
  item: T,
  select: readonly string[] | null,
  expand: readonly ExpandItem[] = [],
): Partial<T> {
  if (select === null) return item;

  const keep = new Set([...ALWAYS_SELECTED, ...select, ...expand.map((expanded) => expanded.name)]);
  return Object.fromEntries(Object.entries(item).filter(([key]) => keep.has(key))) as Partial<T>;
}

// Reading the parser's tokens

/** The parts of the parser's tokens read here; its own typings leave `value` untyped. */
interface ParsedToken {
  type: string;
  raw: string;
  value: unknown;
}

function isToken(value: unknown): value is ParsedToken {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof member(value, 'type') === 'string' &&
    typeof member(value, 'raw') === 'string'
  );
}

function member(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;
}

// A shape this module does not expect comes from syntax it does not support.
function tokenIn(value: unknown, parent: ParsedToken): ParsedToken {
  if (isToken(value)) return value;
  throw badRequest(`${quote(parent.raw)} is not supported.`);
}

function tokenAt(value: unknown, key: string, parent: ParsedToken): ParsedToken {
  return tokenIn(member(value, key), parent);
}

function tokensIn(value: unknown, parent: ParsedToken): ParsedToken[] {
  if (!Array.isArray(value)) throw badRequest(`${quote(parent.raw)} is not supported.`);
  return value.map((item: unknown) => tokenIn(item, parent));
}

function syntaxError(option: string, text: string, error: unknown, offset: number) {
  const position =
    error instanceof Error ? /Unexpected character at (\d+)/.exec(error.message) : null;
  const at = position ? Number(position[1]) - offset : -1;

  if (at >= 0 && at < text.length) {
    return badRequest(
      `${option}: cannot parse ${quote(text)}; the problem is at character ${at + 1}, ` +
        `${quote(text.slice(at, at + 20))}.`,
    );
  }
  return badRequest(`${option}: cannot parse ${quote(text)}.`);
}

// Input is echoed in messages only in part, so that a huge query never fills a response or log.
function cap(text: string): string {
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}...` : text;
}

function quote(text: string): string {
  return `'${cap(text)}'`;
}

function unquote(raw: string): string {
  return raw.slice(1, -1).replaceAll("''", "'");
}

function listed(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

// Specs are plain objects; names such as 'constructor' must not reach their prototype.
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
