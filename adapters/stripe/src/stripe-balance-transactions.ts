import Stripe from 'stripe';

/**
 * A processor balance movement in neutral terms, for reconciliation (DESIGN.md §7). Amounts are
 * signed minor units; `net = amount - fee`. Meant to move to libs/contracts once the ledger uses it.
 */
export interface ProcessorBalanceTransaction {
  readonly id: string;
  /** The charge, refund, payout … that caused it. */
  readonly sourceReference: string | null;
  readonly type: string;
  readonly reportingCategory: string;
  /** ISO 4217, upper case. */
  readonly currency: string;
  readonly amount: number;
  readonly fee: number;
  readonly net: number;
  readonly status: string;
  readonly createdAt: Date;
  readonly availableOn: Date;
}

export interface BalanceTransactionQuery {
  /** Inclusive bounds; Stripe stores whole seconds. */
  readonly createdFrom: Date;
  readonly createdTo: Date;
  /** Transactions fetched per request, 1–100 (Stripe's maximum, the default). */
  readonly pageSize?: number;
}

const MAX_PAGE_SIZE = 100;

/** Every balance transaction in the window, newest first, page by page as it is iterated. */
export async function* listBalanceTransactions(
  stripe: Stripe,
  query: BalanceTransactionQuery,
): AsyncGenerator<ProcessorBalanceTransaction> {
  const created = {
    gte: Math.floor(query.createdFrom.getTime() / 1000),
    lte: Math.floor(query.createdTo.getTime() / 1000),
  };
  let startingAfter: string | undefined;
  for (;;) {
    const page = await stripe.balanceTransactions.list({
      created,
      limit: Math.min(Math.max(1, Math.floor(query.pageSize ?? MAX_PAGE_SIZE)), MAX_PAGE_SIZE),
      ...(startingAfter ? { starting_after: startingAfter } : {}),
    });
    for (const transaction of page.data) yield toBalanceTransaction(transaction);
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
