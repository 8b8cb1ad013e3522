/**
 * A processor balance movement in neutral terms, for reconciliation (DESIGN.md §7). Amounts are
 * signed minor units of `currency` (a charge is positive, a refund or payout negative);
 * `net = amount - fee`, `fee >= 0`.
 */
export interface ProcessorBalanceTransaction {
  readonly id: string;
  /** The charge, refund, dispute, payout … that caused it (the processor's id of it). */
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
  /** The processor's id of the payout that paid this transaction out, when known. */
  readonly payoutReference?: string | null;
}

export interface BalanceTransactionQuery {
  /** Inclusive bounds; Stripe stores whole seconds. */
  readonly createdFrom: Date;
  readonly createdTo: Date;
  /** Transactions fetched per request, 1–100 (Stripe's maximum, the default). */
  readonly pageSize?: number;
}
