import { DataSource } from 'typeorm';
import { Logger, Metrics } from '../../../observability/src';
import { EXCEPTION_TYPES } from './exception-contract';

/** Age buckets of `reconciliation_open_exceptions{age_bucket}`, youngest first. */
export const AGE_BUCKETS = ['<1h', '1h-24h', '1d-7d', '>7d'] as const;

/**
 * Samples the open exception queue into gauges on an interval, with ONE set-based query:
 * `reconciliation_open_exceptions{type, age_bucket}` and `reconciliation_amount_at_stake{currency}`
 * (minor units). Every type × bucket is set (zero included), so a drained queue reads 0, and a
 * currency once seen stays reported (at 0) rather than vanishing.
 */
export class ExceptionMetricsSampler {
  private timer?: NodeJS.Timeout;
  private readonly currencies = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  onApplicationBootstrap(): void {
    void this.sampleQuietly();
    this.timer = setInterval(() => void this.sampleQuietly(), this.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sample(): Promise<void> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `WITH open AS (
         SELECT type, currency, amount_at_stake,
                CASE WHEN now() - opened_at < interval '1 hour' THEN '<1h'
                     WHEN now() - opened_at < interval '1 day' THEN '1h-24h'
                     WHEN now() - opened_at < interval '7 days' THEN '1d-7d'
                     ELSE '>7d' END AS age_bucket
           FROM reconciliation_exceptions WHERE status = 'open')
       SELECT type, age_bucket, currency, grouping(currency) AS by_type,
              count(*)::bigint AS n, coalesce(sum(amount_at_stake), 0)::bigint AS at_stake
         FROM open GROUP BY GROUPING SETS ((type, age_bucket), (currency))`,
    );
    const open = this.metrics.reconciliationOpenExceptions;
    const atStake = this.metrics.reconciliationAmountAtStake;
    for (const type of EXCEPTION_TYPES)
      for (const bucket of AGE_BUCKETS) open.set({ type, age_bucket: bucket }, 0);
    for (const currency of this.currencies) atStake.set({ currency }, 0);
    for (const r of rows) {
      if (Number(r.by_type) === 1) {
        open.set({ type: r.type as string, age_bucket: r.age_bucket as string }, Number(r.n));
      } else {
        const currency = (r.currency as string).trim();
        this.currencies.add(currency);
        atStake.set({ currency }, Number(r.at_stake));
      }
    }
  }

  private async sampleQuietly(): Promise<void> {
    try {
      await this.sample();
    } catch (error) {
      this.logger.warn({ err: error }, 'reconciliation metrics sample failed');
    }
  }
}
