import type { ProcessorBalanceTransaction } from '../../../contracts/src';
import type { LedgerEvent } from '../posting-rules';
import type { Logger, Metrics } from '../../../observability/src';
import type { BalanceTransactionIngest } from './balance-transaction-ingest';
import { ReconciliationEngine } from './reconciliation-engine';

/** What a booked batch touched: our payment ids, and payouts by processor. */
export interface TouchedFacts {
  readonly paymentIds: string[];
  readonly payouts: Map<string, string[]>;
}

/** Pure: the payments and payouts a batch of ledger events is about. */
export function touchedBy(events: readonly LedgerEvent[]): TouchedFacts {
  const paymentIds = new Set<string>();
  const payouts = new Map<string, string[]>();
  for (const event of events) {
    if ('payment' in event && event.payment) paymentIds.add(event.payment.id);
    else if ('dispute' in event && event.dispute) paymentIds.add(event.dispute.paymentId);
    else if ('paymentId' in event && typeof event.paymentId === 'string') {
      paymentIds.add(event.paymentId);
    } else if ('payout' in event && event.payout) {
      const list = payouts.get(event.payout.processor) ?? [];
      list.push(event.payout.processorReference);
      payouts.set(event.payout.processor, list);
    }
  }
  return { paymentIds: [...paymentIds], payouts };
}

/**
 * Pure: the balance transactions a batch's payment events carried (webhook-delivered, e.g. the
 * expanded one of a `fee_recorded`), by the payment's processor. Events without one, or whose
 * payment names no processor, give nothing.
 */
export function webhookBalanceTransactionsOf(
  events: readonly LedgerEvent[],
): Map<string, ProcessorBalanceTransaction[]> {
  const byProcessor = new Map<string, ProcessorBalanceTransaction[]>();
  for (const event of events) {
    if (!('balanceTransaction' in event) || !event.balanceTransaction) continue;
    const processor = event.payment?.processor;
    if (!processor) continue;
    const t = event.balanceTransaction;
    const list = byProcessor.get(processor) ?? [];
    list.push({
      id: t.id,
      sourceReference: t.sourceReference,
      type: t.type,
      reportingCategory: t.reportingCategory,
      currency: t.currency,
      amount: t.amount,
      fee: t.fee,
      net: t.net,
      status: t.status,
      createdAt: new Date(t.createdAt),
      availableOn: new Date(t.availableOn ?? t.createdAt),
    });
    byProcessor.set(processor, list);
  }
  return byProcessor;
}

/**
 * Real time: after the ledger commits a batch, re-reconciles the items it touched. Runs one
 * pass at a time, off the booking path (the batch is acked already); a failure is logged and
 * counted, never thrown: the next pass or the batch run catches up.
 */
export class RealtimeReconciler {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly engine: ReconciliationEngine,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
    /** Stores the balance transactions events carried (received_via 'webhook'); absent: none. */
    private readonly ingest?: BalanceTransactionIngest,
  ) {}

  /**
   * Queues the pass and returns at once; `settled()` waits for every queued pass. The balance
   * transactions the events carried are stored first (which re-reconciles their sources), then
   * the touched payments and payouts are re-reconciled.
   */
  afterBatch(events: readonly LedgerEvent[]): void {
    const touched = touchedBy(events);
    const transactions = this.ingest ? webhookBalanceTransactionsOf(events) : new Map();
    if (touched.paymentIds.length === 0 && touched.payouts.size === 0 && transactions.size === 0) {
      return;
    }
    this.tail = this.tail.then(() => this.store(transactions)).then(() => this.run(touched));
  }

  private async store(transactions: Map<string, ProcessorBalanceTransaction[]>): Promise<void> {
    for (const [processor, list] of transactions) {
      try {
        await this.ingest!.ingest(processor, list, 'webhook');
      } catch (error) {
        this.metrics?.reconciliationPullFailures.inc({ processor: 'webhook' });
        this.logger.error(
          { err: error, processor, transactions: list.map((t) => t.id) },
          'storing webhook balance transactions failed; the pull brings them later',
        );
      }
    }
  }

  settled(): Promise<void> {
    return this.tail;
  }

  private async run(touched: TouchedFacts): Promise<void> {
    try {
      if (touched.paymentIds.length > 0) {
        await this.engine.reconcileSources({ paymentIds: touched.paymentIds });
      }
      for (const [processor, references] of touched.payouts) {
        await this.engine.reconcileSources({ processor, sourceReferences: references });
      }
    } catch (error) {
      this.metrics?.reconciliationPullFailures.inc({ processor: 'realtime' });
      this.logger.error(
        { err: error, payments: touched.paymentIds.length },
        'real-time reconciliation failed; the next pass or batch run catches up',
      );
    }
  }
}
