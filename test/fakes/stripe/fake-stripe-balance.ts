import { FormObject, FormValue } from './fake-stripe-form';
import { ParamError } from './fake-stripe-params';
import { ApiResponse, missing, ok } from './fake-stripe-responses';
import { FakeStripeStore } from './fake-stripe-store';

/**
 * GET /v1/balance_transactions: newest first, `created[gte|lte]`, `limit`, `starting_after`,
 * `payout` (the transactions that payout paid out, its own one included).
 */
export function listBalanceTransactions(store: FakeStripeStore, query: FormObject): ApiResponse {
  const payout = query.payout;
  if (payout !== undefined && typeof payout !== 'string') {
    throw new ParamError('Invalid payout', 'parameter_invalid_string', 'payout');
  }
  if (payout !== undefined && !store.payouts.some((p) => p.id === payout)) {
    return missing('payout', payout, 'payout');
  }
  const all = store.balanceTransactions.filter(
    (t) => payout === undefined || store.paidOutBy.get(t.id) === payout,
  );
  return listPage(all, query, 'balance transaction', '/v1/balance_transactions');
}

/** GET /v1/balance_transactions/:id */
export function retrieveBalanceTransaction(store: FakeStripeStore, id: string): ApiResponse {
  const found = store.balanceTransactions.find((t) => t.id === id);
  return found ? ok(found) : missing('balance_transaction', id);
}

/** GET /v1/payouts: newest first, `created[gte|lte]`, `limit`, `starting_after`. */
export function listPayouts(store: FakeStripeStore, query: FormObject): ApiResponse {
  return listPage(store.payouts, query, 'payout', '/v1/payouts');
}

// Stripe's list envelope over objects kept oldest first.
function listPage<T extends { id: string; created: number }>(
  oldestFirst: readonly T[],
  query: FormObject,
  kind: string,
  url: string,
): ApiResponse {
  const range = createdRange(query.created);
  const limit = clampLimit(query.limit);
  const matching = [...oldestFirst]
    .reverse()
    .filter((t) => t.created >= range.gte && t.created <= range.lte);
  const after = typeof query.starting_after === 'string' ? query.starting_after : undefined;
  const start = after ? matching.findIndex((t) => t.id === after) + 1 : 0;
  if (after && start === 0) {
    throw new ParamError(`No such ${kind}: '${after}'`, 'resource_missing', 'starting_after');
  }
  const page = matching.slice(start, start + limit);
  return ok({ object: 'list', data: page, has_more: start + limit < matching.length, url });
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
