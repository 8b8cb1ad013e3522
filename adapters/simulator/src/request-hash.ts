import { createHash } from 'node:crypto';

/** Hash of an operation and its parameters, independent of key order and undefined fields. */
export function requestHash(operation: string, params: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalJson({ operation, params })).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
