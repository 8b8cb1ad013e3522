import { DataSource } from 'typeorm';
import { Subjects } from '../../../contracts/src';
import { writeOutbox } from '../../../messaging/src';
import { Logger, Metrics } from '../../../observability/src';

export interface JanitorOptions {
  readonly staleAfterMs: number;
  readonly intervalMs: number;
  /** An outcome still unknown after this long is flagged for an operator. */
  readonly flagUnknownAfterMs: number;
  readonly outboxWritten: () => void;
}

const JANITOR_LOCK_ID = 73_011_985;
const SWEEP_LIMIT = 500;

/**
 * Housekeeping for the payments side, one leader at a time (advisory lock):
 * - re-drives payments stuck mid-operation (e.g. a command dead-lettered after an outage) by
 *   enqueuing a `sync` command; the handler is idempotent, so a spurious sync is harmless;
 * - deletes expired idempotency keys and old published outbox rows;
 * - samples gauges (payments by status, outbox lag).
 */
export class PaymentJanitor {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private lastSampleAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly subjects: Subjects,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: JanitorOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(): Promise<{ resynced: number }> {
    try {
      return await this.dataSource.transaction(async (tx) => {
        const [{ leader }] = await tx.query(`SELECT pg_try_advisory_xact_lock($1) AS leader`, [
          JANITOR_LOCK_ID,
        ]);
        if (!leader) return { resynced: 0 };
        const resynced = await this.resyncStuck(tx);
        await this.flagForOperator(tx);
        await tx.query(
          `DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT 5000)`,
        );
        await tx.query(
          `DELETE FROM outbox WHERE ctid IN (SELECT ctid FROM outbox WHERE published_at < now() - interval '1 hour' LIMIT 5000)`,
        );
        await this.sampleGauges(tx);
        return { resynced };
      });
    } catch (error) {
      this.logger.error({ err: error }, 'janitor sweep failed');
      return { resynced: 0 };
    }
  }

  private async resyncStuck(tx: Pick<DataSource, 'query'>): Promise<number> {
    const stale = `now() - make_interval(secs => $1::float8 / 1000)`;
    const [rows]: [{ id: string }[]] = await tx.query(
      `UPDATE payments SET updated_at = now() WHERE id IN (
         SELECT id FROM payments
         WHERE updated_at < ${stale} AND (status = 'PROCESSING' OR pending_operation IS NOT NULL)
         UNION
         SELECT payment_id FROM refunds WHERE status = 'PENDING' AND updated_at < ${stale}
         LIMIT ${SWEEP_LIMIT})
       RETURNING id`,
      [this.options.staleAfterMs],
    );
    if (rows.length === 0) return 0;
    await tx.query(
      `UPDATE refunds SET updated_at = now() WHERE status = 'PENDING' AND payment_id = ANY($1)`,
      [rows.map((r) => r.id)],
    );
    await writeOutbox(
      tx,
      rows.map((r) => ({
        subject: this.subjects.command('sync'),
        payload: { v: 1, type: 'sync', paymentId: r.id },
      })),
    );
    this.logger.warn({ count: rows.length }, 'stuck payments re-driven with a sync command');
    this.options.outboxWritten();
    return rows.length;
  }

  /** A full GROUP BY is not free on a big table: sampled at most every 30 s. */
  private async flagForOperator(tx: Pick<DataSource, 'query'>): Promise<void> {
    const [flagged]: [{ id: string }[]] = await tx.query(
      `UPDATE payments p SET needs_operator_at = now()
       WHERE p.status = 'PROCESSING' AND p.needs_operator_at IS NULL AND EXISTS (
         SELECT 1 FROM payment_attempts a WHERE a.payment_id = p.id AND a.outcome = 'unknown'
           AND a.created_at < now() - make_interval(secs => $1::float8 / 1000))
       RETURNING p.id`,
      [this.options.flagUnknownAfterMs],
    );
    for (const { id } of flagged) {
      this.logger.error(
        { paymentId: id },
        'processor outcome still unknown: an operator must resolve this payment',
      );
    }
    const [{ n }] = await tx.query(
      `SELECT count(*)::int AS n FROM payments WHERE needs_operator_at IS NOT NULL AND status = 'PROCESSING'`,
    );
    this.metrics.paymentsNeedingOperator.set(n);
  }

  private async sampleGauges(tx: Pick<DataSource, 'query'>): Promise<void> {
    if (Date.now() - this.lastSampleAt < 30_000) return;
    this.lastSampleAt = Date.now();
    const byStatus: { status: string; n: number }[] = await tx.query(
      `SELECT status, count(*)::int AS n FROM payments GROUP BY status`,
    );
    this.metrics.paymentsByStatus.reset();
    for (const { status, n } of byStatus) this.metrics.paymentsByStatus.set({ status }, n);
  }
}
