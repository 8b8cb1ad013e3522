import { DataSource } from 'typeorm';
import { ProcessorBalanceTransaction } from '../../../contracts/src';
import { isKnownCurrency } from '../../../domain/src';
import { PassResult, ReconciliationEngine } from './reconciliation-engine';

export type ReceivedVia = 'webhook' | 'pull';

/** A balance transaction that cannot be stored as is: the whole batch is refused. */
export class InvalidBalanceTransaction extends Error {
  constructor(
    readonly transactionId: string,
    reason: string,
  ) {
    super(`balance transaction ${transactionId}: ${reason}`);
    this.name = 'InvalidBalanceTransaction';
  }
}

export interface IngestResult {
  readonly received: number;
  /** Rows newly stored (the rest were already known: status, available_on, payout updated). */
  readonly inserted: number;
  readonly reconciled: PassResult;
}

/** Checks one transaction; throws `InvalidBalanceTransaction` with the first problem. */
export function assertBalanceTransaction(t: ProcessorBalanceTransaction): void {
  const bad = (reason: string) => new InvalidBalanceTransaction(String(t.id), reason);
  if (typeof t.id !== 'string' || t.id.trim() === '') throw bad('id is required');
  for (const [name, value] of [
    ['amount', t.amount],
    ['fee', t.fee],
    ['net', t.net],
  ] as const) {
    if (!Number.isSafeInteger(value)) throw bad(`${name} must be an integer of minor units`);
  }
  if (t.fee < 0) throw bad('fee must not be negative');
  if (t.net !== t.amount - t.fee) throw bad('net must equal amount - fee');
  if (!isKnownCurrency(t.currency)) throw bad(`unknown currency ${t.currency}`);
  if (!(t.createdAt instanceof Date) || Number.isNaN(t.createdAt.getTime())) {
    throw bad('createdAt must be a date');
  }
  if (typeof t.type !== 'string' || t.type === '') throw bad('type is required');
}

/**
 * Stores what the processor says moved (`processor_balance_transactions`), from a webhook or a
 * pull, in ONE statement: a transaction seen again keeps its amounts and takes only the new
 * status, available_on and (when now known) payout. Then, in the same transaction, re-reconciles
 * the items those transactions touch (their sources and payouts).
 */
export class BalanceTransactionIngest {
  constructor(
    private readonly dataSource: DataSource,
    private readonly engine: ReconciliationEngine,
  ) {}

  async ingest(
    processor: string,
    transactions: readonly ProcessorBalanceTransaction[],
    via: ReceivedVia,
  ): Promise<IngestResult> {
    if (!processor) throw new InvalidBalanceTransaction('-', 'processor is required');
    transactions.forEach(assertBalanceTransaction);
    const rows = dedupe(transactions);
    if (rows.length === 0) {
      return {
        received: 0,
        inserted: 0,
        reconciled: await this.engine.reconcileSourcesIn(this.dataSource.manager, {}),
      };
    }
    const started = process.hrtime.bigint();
    const result = await this.dataSource.transaction(async (tx) => {
      const inserted = (await tx.query(
        `INSERT INTO processor_balance_transactions AS b
           (processor, id, type, reporting_category, source_reference, payout_reference, amount,
            fee, net, currency, status, created_at, available_on, received_via)
         SELECT $1, t.id, t.type, t.category, t.source, t.payout, t.amount, t.fee, t.net,
                upper(t.currency), t.status, t.created_at, t.available_on, $2
           FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                       $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::timestamptz[],
                       $14::timestamptz[])
             AS t(id, type, category, source, payout, amount, fee, net, currency, status,
                  created_at, available_on)
         ON CONFLICT (processor, id) DO UPDATE SET
           status = EXCLUDED.status,
           available_on = coalesce(EXCLUDED.available_on, b.available_on),
           payout_reference = coalesce(EXCLUDED.payout_reference, b.payout_reference)
         RETURNING (xmax = 0) AS inserted`,
        [
          processor,
          via,
          rows.map((t) => t.id),
          rows.map((t) => t.type),
          rows.map((t) => t.reportingCategory || t.type),
          rows.map((t) => t.sourceReference),
          rows.map((t) => t.payoutReference ?? null),
          rows.map((t) => t.amount),
          rows.map((t) => t.fee),
          rows.map((t) => t.net),
          rows.map((t) => t.currency),
          rows.map((t) => t.status),
          rows.map((t) => t.createdAt),
          rows.map((t) => t.availableOn ?? null),
        ],
      )) as { inserted: boolean }[];
      const references = new Set<string>();
      for (const t of rows) {
        if (t.sourceReference) references.add(t.sourceReference);
        if (t.payoutReference) references.add(t.payoutReference);
      }
      const reconciled = await this.engine.reconcileSourcesIn(tx, {
        processor,
        sourceReferences: [...references],
      });
      return { inserted: inserted.filter((r) => r.inserted).length, reconciled };
    });
    this.engine.observe('realtime', started, result.reconciled);
    return { received: transactions.length, ...result };
  }
}

/** One row per id (the last report wins, keeping any payout a copy named): ON CONFLICT needs it. */
function dedupe(
  transactions: readonly ProcessorBalanceTransaction[],
): ProcessorBalanceTransaction[] {
  const byId = new Map<string, ProcessorBalanceTransaction>();
  for (const t of transactions) {
    const previous = byId.get(t.id);
    byId.set(t.id, { ...t, payoutReference: t.payoutReference ?? previous?.payoutReference });
  }
  return [...byId.values()];
}
