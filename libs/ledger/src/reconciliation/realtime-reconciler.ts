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

interface PendingWork {
  readonly paymentIds: Set<string>;
  readonly payouts: Map<string, Set<string>>;
  readonly transactions: Map<string, ProcessorBalanceTransaction[]>;
}

const noWork = (): PendingWork => ({
  paymentIds: new Set(),
  payouts: new Map(),
  transactions: new Map(),
});

/**
 * Real time: after the ledger commits a batch, re-reconciles the items it touched. One pass at
 * a time, at most one per `minIntervalMs`, off the booking path (the batch is acked already);
 * what batches touch while a pass runs or waits is merged into ONE next pass (set-based, so a
 * burst costs a few larger passes, never an ever-growing queue). A failure is logged and
 * counted, never thrown: the next pass or the batch run catches up.
 */
export class RealtimeReconciler {
  private pending: PendingWork = noWork();
  private running: Promise<void> | null = null;
  private lastPassAt = 0;

  constructor(
    private readonly engine: ReconciliationEngine,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
    /** Stores the balance transactions events carried (received_via 'webhook'); absent: none. */
    private readonly ingest?: BalanceTransactionIngest,
    /**
     * At most one pass per … ms (RECONCILIATION_REALTIME_INTERVAL_MS): under a backlog the
     * ledger books first, and each pass covers everything booked since the last one (a pass has
     * a fixed cost of temporary tables and statistics, ~10–30 ms, whatever its size).
     */
    private readonly minIntervalMs = 0,
  ) {}

  /**
   * Notes what the batch touched and returns at once; `settled()` waits until everything noted
   * so far is reconciled. The balance transactions the events carried are stored first (which
   * re-reconciles their sources), then the touched payments and payouts are re-reconciled.
   */
  afterBatch(events: readonly LedgerEvent[]): void {
    const touched = touchedBy(events);
    const transactions = this.ingest ? webhookBalanceTransactionsOf(events) : new Map();
    if (touched.paymentIds.length === 0 && touched.payouts.size === 0 && transactions.size === 0) {
      return;
    }
    this.note(touched.paymentIds, touched.payouts);
    for (const [processor, list] of transactions) {
      this.pending.transactions.set(processor, [
        ...(this.pending.transactions.get(processor) ?? []),
        ...list,
      ]);
    }
    this.running ??= this.drain();
  }

  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (
      this.pending.paymentIds.size > 0 ||
      this.pending.payouts.size > 0 ||
      this.pending.transactions.size > 0
    ) {
      const wait = this.lastPassAt + this.minIntervalMs - Date.now();
      // What batches touch meanwhile joins this pass.
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
      this.lastPassAt = Date.now();
      const work = this.pending;
      this.pending = noWork();
      await this.store(work.transactions);
      const retry = await this.run({
        paymentIds: [...work.paymentIds],
        payouts: new Map([...work.payouts].map(([p, refs]) => [p, [...refs]])),
      });
      // Work of a pass that lost a lock race joins the next pass (store() is not repeated).
      if (retry) this.note(work.paymentIds, work.payouts);
    }
    this.running = null;
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

  /** Payments and payouts for the next pass (sets: each once, however often touched). */
  private note(paymentIds: Iterable<string>, payouts: ReadonlyMap<string, Iterable<string>>): void {
    for (const id of paymentIds) this.pending.paymentIds.add(id);
    for (const [processor, references] of payouts) {
      const set = this.pending.payouts.get(processor) ?? new Set<string>();
      for (const reference of references) set.add(reference);
      this.pending.payouts.set(processor, set);
    }
  }

  /** True when the pass failed on a lock (e.g. behind a long batch run) and should be retried. */
  private async run(touched: TouchedFacts): Promise<boolean> {
    try {
      if (touched.paymentIds.length > 0) {
        await this.engine.reconcileSources({ paymentIds: touched.paymentIds });
      }
      for (const [processor, references] of touched.payouts) {
        await this.engine.reconcileSources({ processor, sourceReferences: references });
      }
      return false;
    } catch (error) {
      const retry = isLockConflict(error);
      this.metrics?.reconciliationPullFailures.inc({ processor: 'realtime' });
      const context = { err: error, payments: touched.paymentIds.length };
      if (retry) {
        // A batch shard holds the writer lock for as long as its window takes: not an incident.
        this.logger.warn(
          context,
          'real-time reconciliation deferred behind a lock; next pass retries it',
        );
      } else {
        this.logger.error(
          context,
          'real-time reconciliation failed; the next pass or batch run catches up',
        );
      }
      return retry;
    }
  }
}

/** lock_not_available (a lock_timeout) or deadlock_detected: transient, worth another pass. */
function isLockConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '55P03' || code === '40P01';
}
