import { DataSource } from 'typeorm';
import { ItemStatus } from './exception-contract';
import { ReconciliationEngine } from './reconciliation-engine';

/** One payout checked against what it paid out and the bank posting (amounts in minor units). */
export interface PayoutReconciliation {
  /** Our id (`pyo_…`). */
  readonly payoutId: string;
  readonly processor: string;
  readonly currency: string;
  readonly payoutAmount: number;
  /** Net of the balance transactions the payout paid out (its own excluded); null: none linked. */
  readonly balanceTransactionTotal: number | null;
  /** Bank debit booked for it (`<pyo_…>:paid`, less `:failed`); null: nothing booked. */
  readonly ledgerBankAmount: number | null;
  readonly status: ItemStatus;
  /** Balance transactions linked to the payout (its own excluded). */
  readonly itemCount: number;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * `payoutReconciliation(payoutId)`: judged live by the matching engine (no grace: what the data
 * says now), nothing written. Accepts our id (`pyo_…`) or the processor's (`po_…`); null when
 * no such payout is known.
 */
export async function payoutReconciliation(
  dataSource: DataSource,
  engine: ReconciliationEngine,
  payoutId: string,
): Promise<PayoutReconciliation | null> {
  const payouts = (await dataSource.query(
    `SELECT id, processor, processor_reference, amount, currency FROM payouts
      WHERE id = $1 OR processor_reference = $1 LIMIT 1`,
    [payoutId],
  )) as { id: string; processor: string; processor_reference: string; currency: string }[];
  const payout = payouts[0];
  if (!payout) return null;
  const items = await engine.preview({
    processor: payout.processor,
    sourceReferences: [payout.processor_reference],
  });
  const item = items.find((r) => r.kind === 'payout');
  const linked = (await dataSource.query(
    `SELECT count(*)::int AS n, sum(net)::bigint AS net FROM processor_balance_transactions
      WHERE processor = $1 AND payout_reference = $2 AND type <> 'payout'`,
    [payout.processor, payout.processor_reference],
  )) as { n: number; net: string | null }[];
  return {
    payoutId: payout.id,
    processor: payout.processor,
    currency: payout.currency.trim(),
    payoutAmount: Number((payouts[0] as unknown as { amount: string }).amount),
    balanceTransactionTotal: linked[0].n > 0 ? num(linked[0].net) : null,
    ledgerBankAmount: num(item?.ledger_amount),
    status: (item?.status as ItemStatus | undefined) ?? 'missing_at_processor',
    itemCount: linked[0].n,
  };
}
