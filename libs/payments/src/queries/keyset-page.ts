import { EntityManager } from 'typeorm';
import { IdPrefix, PaymentsError, hasPrefix } from '../../../domain/src';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface Page<T> {
  readonly items: T[];
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
}

/** Cursors are the base64url of our sortable, prefixed ids. */
export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

export function decodeCursor(cursor: string, prefix: IdPrefix): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!hasPrefix(id, prefix))
    throw PaymentsError.badInput('after', 'after is not a cursor from this API');
  return id;
}

/** Collects `AND`-ed conditions with numbered parameters (`?` becomes `$n`). */
export class Conditions {
  private readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  add(clause: string, value: unknown): this {
    this.params.push(value);
    this.clauses.push(clause.replace('?', `$${this.params.length}`));
    return this;
  }

  get where(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

/**
 * Newest first, keyset-paginated on the sortable id column: `select` is the query up to (not
 * including) its WHERE, `idColumn` the id it pages on.
 */
export async function keysetPage<T>(
  sql: Pick<EntityManager, 'query'>,
  spec: {
    readonly select: string;
    readonly idColumn: string;
    readonly prefix: IdPrefix;
    readonly conditions: Conditions;
    readonly first: number | null | undefined;
    readonly after: string | null | undefined;
    readonly map: (row: Record<string, unknown>) => T;
  },
): Promise<Page<T>> {
  const limit = spec.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw PaymentsError.badInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  const { conditions } = spec;
  if (spec.after) conditions.add(`${spec.idColumn} < ?`, decodeCursor(spec.after, spec.prefix));
  const rows: Record<string, unknown>[] = await sql.query(
    `${spec.select} ${conditions.where} ORDER BY ${spec.idColumn} DESC LIMIT $${conditions.params.length + 1}`,
    [...conditions.params, limit + 1],
  );
  return {
    items: rows.slice(0, limit).map(spec.map),
    hasNextPage: rows.length > limit,
    hasPreviousPage: Boolean(spec.after),
  };
}
