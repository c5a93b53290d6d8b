import { badRequest } from '../../http/errors.js';

// Readers of a JSON body: each checks one value and names it in its message, so that a client
// learns which property to fix.

export type Fields = Record<string, unknown>;

export function readObject(value: unknown, path: string, allowed: readonly string[]): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`${path} must be a JSON object.`);
  }

  const fields = value as Fields;
  for (const key of Object.keys(fields)) {
    // Instance annotations such as @odata.context describe a payload; they set nothing.
    const annotation = key.startsWith('@odata.') && key !== '@odata.type';
    if (!allowed.includes(key) && !annotation) {
      throw badRequest(
        `${path} has a property that is not allowed: ${key.slice(0, 100)}. ` +
          `Allowed are: ${allowed.join(', ')}.`,
      );
    }
  }
  return fields;
}

export function readBoolean(fields: Fields, key: string, fallback: boolean, prefix = ''): boolean {
  const value = fields[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw badRequest(`${prefix}${key} must be true or false.`);
  return value;
}

/** A whole number from `min` to `max`, or undefined when the property is left out. */
export function readInteger(
  fields: Fields,
  key: string,
  prefix: string,
  min: number,
  max: number,
): number | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${prefix}${key} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

export function readString(value: unknown, path: string, maxLength: number): string {
  if (typeof value !== 'string') throw badRequest(`${path} must be a string.`);
  if (value.length > maxLength) throw badRequest(`${path} is longer than ${maxLength} characters.`);
  return value;
}

export function readArray(value: unknown, path: string, maxItems: number): unknown[] {
  if (!Array.isArray(value)) throw badRequest(`${path} must be an array.`);
  if (value.length > maxItems) throw badRequest(`${path} has more than ${maxItems} items.`);
  return value as unknown[];
}

/** Enum values are accepted in any case and answered in Graph's spelling. */
export function readEnum<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  const text = typeof value === 'string' ? value.toLowerCase() : null;
  const found = allowed.find((candidate) => candidate.toLowerCase() === text);
  if (found === undefined) {
    const given = typeof value === 'string' ? `'${value.slice(0, 60)}'` : 'this value';
    throw badRequest(`${path} cannot be ${given}; it takes ${allowed.join(', ')}.`);
  }
  return found;
}

export function normalizeType(type: string): string {
  return type.startsWith('#') ? type : `#${type}`;
}

/** Graph writes `@odata.type` with or without the leading `#`; both are accepted, in any case. */
export function checkType(value: unknown, expected: string, path: string, required = false): void {
  if (value === undefined) {
    if (required) throw badRequest(`${path} is required: '${normalizeType(expected)}'.`);
    return;
  }
  const given = readString(value, path, 200);
  if (normalizeType(given).toLowerCase() !== normalizeType(expected).toLowerCase()) {
    throw badRequest(
      `${path} must be '${normalizeType(expected)}' for this rule, not '${given.slice(0, 100)}'.`,
    );
  }
}
