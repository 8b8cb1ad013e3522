import type { ProcessorAdapter, ProcessorBalanceTransaction } from '../../../contracts/src';
import type { Logger, Metrics } from '../../../observability/src';
import { BalanceTransactionIngest } from './balance-transaction-ingest';

export interface PullOptions {
  /** Every … ms; 0 = off. */
  readonly intervalMs: number;
  /** Each pull starts this long before where the previous one ended. */
  readonly overlapMs: number;
  /** The first pull of a process looks back this far. */
  readonly lookbackMs: number;
  /** Transactions stored (and reconciled) per transaction. */
  readonly chunkSize?: number;
  readonly now?: () => Date;
}

export interface PullReport {
  readonly processor: string;
  readonly from: Date;
  readonly to: Date;
  readonly received: number;
  readonly ok: boolean;
}

/**
 * Scheduled pull: for each adapter that offers `listBalanceTransactions`, the transactions
 * created since its last successful pull (minus an overlap, for late ones), stored through the
 * ingest (which re-reconciles what they touch). A failure is logged and counted
 * (`reconciliation_pull_failures_total`) and retried from the same point next time; it never
 * throws out of the timer.
 */
export class BalanceTransactionPuller {
  private readonly pulledUntil = new Map<string, Date>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<PullReport[]>;
  private readonly now: () => Date;

  constructor(
    private readonly adapters: readonly ProcessorAdapter[],
    private readonly ingest: BalanceTransactionIngest,
    private readonly options: PullOptions,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.pullOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pull of every adapter; overlapping calls share the one in progress. */
  pullOnce(): Promise<PullReport[]> {
    this.running ??= this.pullAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pullAll(): Promise<PullReport[]> {
    const reports: PullReport[] = [];
    for (const adapter of this.adapters) {
      if (!adapter.listBalanceTransactions) continue;
      reports.push(await this.pullAdapter(adapter));
    }
    return reports;
  }

  private async pullAdapter(adapter: ProcessorAdapter): Promise<PullReport> {
    const to = this.now();
    const last = this.pulledUntil.get(adapter.name);
    const from = last
      ? new Date(last.getTime() - this.options.overlapMs)
      : new Date(to.getTime() - this.options.lookbackMs);
    let received = 0;
    try {
      let chunk: ProcessorBalanceTransaction[] = [];
      const size = this.options.chunkSize ?? 1000;
      for await (const t of adapter.listBalanceTransactions!({
        createdFrom: from,
        createdTo: to,
      })) {
        chunk.push(t);
        if (chunk.length >= size) {
          received += (await this.ingest.ingest(adapter.name, chunk, 'pull')).received;
          chunk = [];
        }
      }
      if (chunk.length > 0)
        received += (await this.ingest.ingest(adapter.name, chunk, 'pull')).received;
      this.pulledUntil.set(adapter.name, to);
      this.metrics?.reconciliationLastSuccess.set({ mode: 'pull' }, to.getTime() / 1000);
      this.logger.info(
        { processor: adapter.name, from, to, received },
        'balance transactions pulled',
      );
      return { processor: adapter.name, from, to, received, ok: true };
    } catch (error) {
      this.metrics?.reconciliationPullFailures.inc({ processor: adapter.name });
      this.logger.error(
        { err: error, processor: adapter.name, from, to, received },
        'balance transaction pull failed; retried from the same point next time',
      );
      return { processor: adapter.name, from, to, received, ok: false };
    }
  }
}
