import Stripe from 'stripe';
import { BalanceTransactionQuery, ProcessorBalanceTransaction } from '../../../libs/contracts/src';

export type { BalanceTransactionQuery, ProcessorBalanceTransaction };

const MAX_PAGE_SIZE = 100;

/**
 * Every balance transaction in the window, newest first, page by page as it is iterated; then,
 * for each payout created in the window (`GET /v1/payouts`, `created` range), the transactions
 * it paid out (`GET /v1/balance_transactions?payout=po_…`, any creation time) with
 * `payoutReference` set. A transaction may so appear twice: the ingest upsert keeps one row.
 */
export async function* listBalanceTransactions(
  stripe: Stripe,
  query: BalanceTransactionQuery,
): AsyncGenerator<ProcessorBalanceTransaction> {
  const created = {
    gte: Math.floor(query.createdFrom.getTime() / 1000),
    lte: Math.floor(query.createdTo.getTime() / 1000),
  };
  const limit = Math.min(Math.max(1, Math.floor(query.pageSize ?? MAX_PAGE_SIZE)), MAX_PAGE_SIZE);
  for await (const t of pages((after) =>
    stripe.balanceTransactions.list({ created, limit, ...after }),
  )) {
    yield toBalanceTransaction(t);
  }
  for await (const payout of pages((after) => stripe.payouts.list({ created, limit, ...after }))) {
    for await (const t of pages((after) =>
      stripe.balanceTransactions.list({ payout: payout.id, limit, ...after }),
    )) {
      yield { ...toBalanceTransaction(t), payoutReference: payout.id };
    }
  }
}

/** Stripe's cursor pagination: `starting_after` = the last id of the previous page. */
async function* pages<T extends { id: string }>(
  list: (after: { starting_after?: string }) => Promise<Stripe.ApiList<T>>,
): AsyncGenerator<T> {
  let startingAfter: string | undefined;
  for (;;) {
    const page = await list(startingAfter ? { starting_after: startingAfter } : {});
    for (const item of page.data) yield item;
    const last = page.data.at(-1);
    if (!page.has_more || !last) return;
    startingAfter = last.id;
  }
}

export function toBalanceTransaction(t: Stripe.BalanceTransaction): ProcessorBalanceTransaction {
  return {
    id: t.id,
    sourceReference: typeof t.source === 'string' ? t.source : (t.source?.id ?? null),
    type: t.type,
    reportingCategory: t.reporting_category,
    currency: t.currency.toUpperCase(),
    amount: t.amount,
    fee: t.fee,
    net: t.net,
    status: t.status,
    createdAt: new Date(t.created * 1000),
    availableOn: new Date(t.available_on * 1000),
  };
}
