import type { LedgerEvent } from '../posting-rules';
import type { Logger, Metrics } from '../../../observability/src';
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
  ) {}

  /** Queues the pass and returns at once; `settled()` waits for every queued pass. */
  afterBatch(events: readonly LedgerEvent[]): void {
    const touched = touchedBy(events);
    if (touched.paymentIds.length === 0 && touched.payouts.size === 0) return;
    this.tail = this.tail.then(() => this.run(touched));
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
