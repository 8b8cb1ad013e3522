import { FormObject, FormValue } from './fake-stripe-form';
import { ParamError } from './fake-stripe-params';
import { ApiResponse, ok } from './fake-stripe-responses';
import { FakeStripeStore } from './fake-stripe-store';

/** GET /v1/balance_transactions: newest first, `created[gte|lte]`, `limit`, `starting_after`. */
export function listBalanceTransactions(store: FakeStripeStore, query: FormObject): ApiResponse {
  const range = createdRange(query.created);
  const limit = clampLimit(query.limit);
  const matching = [...store.balanceTransactions]
    .reverse()
    .filter((t) => t.created >= range.gte && t.created <= range.lte);
  const after = typeof query.starting_after === 'string' ? query.starting_after : undefined;
  const start = after ? matching.findIndex((t) => t.id === after) + 1 : 0;
  if (after && start === 0) {
    throw new ParamError(
      `No such balance transaction: '${after}'`,
      'resource_missing',
      'starting_after',
    );
  }
  const page = matching.slice(start, start + limit);
  return ok({
    object: 'list',
    data: page,
    has_more: start + limit < matching.length,
    url: '/v1/balance_transactions',
  });
}

function createdRange(value: FormValue | undefined): { gte: number; lte: number } {
  if (value === undefined) return { gte: -Infinity, lte: Infinity };
  if (typeof value === 'string') return { gte: Number(value), lte: Number(value) };
  if (Array.isArray(value))
    throw new ParamError('Invalid created', 'parameter_invalid_integer', 'created');
  const bound = (key: string, fallback: number) =>
    typeof value[key] === 'string' ? Number(value[key]) : fallback;
  return {
    gte: Math.max(bound('gte', -Infinity), bound('gt', -Infinity - 1) + 1),
    lte: Math.min(bound('lte', Infinity), bound('lt', Infinity + 1) - 1),
  };
}

function clampLimit(value: FormValue | undefined): number {
  if (value === undefined) return 10;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new ParamError(
      'Invalid limit: must be between 1 and 100',
      'parameter_invalid_integer',
      'limit',
    );
  }
  return limit;
}
