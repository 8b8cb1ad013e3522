import { DataSource } from 'typeorm';
import { isKnownCurrency } from '../../../domain/src';
import { ReconciliationEngine } from './reconciliation-engine';
import {
  StatusCounts,
  addCounts,
  emptyCounts,
  parseStoredCounts,
  totalAtStake,
} from './reconciliation-counts';
import { DAY_MS, splitWindows } from './reconciliation-windows';

export interface ReconcilePeriodRequest {
  readonly from: Date;
  readonly to: Date;
  readonly processor?: string | null;
  readonly currency?: string | null;
  readonly dryRun?: boolean;
  /** Window committed at a time (default one day). */
  readonly windowMs?: number;
  /** Test hook: called after each committed window (throwing interrupts the run there). */
  readonly afterWindow?: (windowEnd: Date) => void | Promise<void>;
}

export interface ReconciliationRunResult {
  readonly runId: string;
  readonly status: 'completed' | 'failed';
  readonly dryRun: boolean;
  readonly from: Date;
  readonly to: Date;
  readonly counts: StatusCounts;
  readonly amountAtStake: number;
  readonly windows: number;
}

/** Bad input to a run (period, currency, unknown or finished run): nothing was written. */
export class ReconciliationRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconciliationRequestError';
  }
}

interface RunRow {
  id: string;
  processor: string | null;
  currency: string | null;
  period_from: Date;
  period_to: Date;
  dry_run: boolean;
  status: string;
  next_from: Date | null;
  counts: unknown;
}

/**
 * Batch reconciliation of a period (`reconciliation_runs`): the period is processed window by
 * window, each in ONE transaction that writes its items and exceptions, adds its counts to the
 * run and moves `next_from` to its end; a run interrupted anywhere resumes after its last
 * committed window (`resumeRun`) and ends with the same items and counts. A dry run records a
 * run row with the counts, and writes no item or exception.
 */
export class ReconciliationRuns {
  constructor(
    private readonly dataSource: DataSource,
    private readonly engine: ReconciliationEngine,
  ) {}

  async reconcilePeriod(request: ReconcilePeriodRequest): Promise<ReconciliationRunResult> {
    validatePeriod(request);
    const rows = (await this.dataSource.query(
      `INSERT INTO reconciliation_runs (processor, currency, period_from, period_to, dry_run, status, next_from)
       VALUES ($1, $2, $3, $4, $5, 'running', $3) RETURNING id`,
      [
        request.processor ?? null,
        request.currency ?? null,
        request.from,
        request.to,
        request.dryRun ?? false,
      ],
    )) as { id: string }[];
    return this.continueRun(String(rows[0].id), request);
  }

  /** Continues a run that did not complete (crash, error) from its last committed window. */
  async resumeRun(
    runId: string,
    options: Pick<ReconcilePeriodRequest, 'windowMs' | 'afterWindow'> = {},
  ): Promise<ReconciliationRunResult> {
    if (!/^\d{1,18}$/.test(runId)) throw new ReconciliationRequestError(`no run ${runId}`);
    const run = await this.findRun(runId);
    if (!run) throw new ReconciliationRequestError(`no run ${runId}`);
    if (run.status === 'completed') {
      throw new ReconciliationRequestError(`run ${runId} is already completed`);
    }
    return this.continueRun(runId, {
      from: run.period_from,
      to: run.period_to,
      processor: run.processor,
      currency: run.currency?.trim() ?? null,
      dryRun: run.dry_run,
      ...options,
    });
  }

  private async continueRun(
    runId: string,
    request: ReconcilePeriodRequest,
  ): Promise<ReconciliationRunResult> {
    const started = process.hrtime.bigint();
    const run = await this.findRun(runId);
    const resumeAt = run?.next_from ?? request.from;
    const windows = splitWindows(request.from, request.to, request.windowMs ?? DAY_MS).filter(
      (w) => w.to.getTime() > resumeAt.getTime(),
    );
    const scope = { processor: request.processor, currency: request.currency };
    let counts = parseStoredCounts(run?.counts);
    let batch = emptyCounts();
    try {
      for (const window of windows) {
        const from = new Date(Math.max(window.from.getTime(), resumeAt.getTime()));
        const result = await this.dataSource.transaction(async (tx) => {
          const pass = await this.engine.reconcileWindow(
            tx,
            { from, to: window.to },
            scope,
            request.dryRun ?? false,
            runId,
          );
          const next = addCounts(counts, pass.counts);
          await tx.query(
            `UPDATE reconciliation_runs SET next_from = $2, counts = $3::jsonb WHERE id = $1`,
            [runId, window.to, JSON.stringify(next)],
          );
          return { pass, next };
        });
        counts = result.next;
        batch = addCounts(batch, result.pass.counts);
        await request.afterWindow?.(window.to);
      }
      await this.dataSource.query(
        `UPDATE reconciliation_runs SET status = 'completed', finished_at = now(), error = NULL WHERE id = $1`,
        [runId],
      );
    } catch (error) {
      await this.dataSource
        .query(
          `UPDATE reconciliation_runs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`,
          [runId, error instanceof Error ? error.message : String(error)],
        )
        .catch(() => undefined);
      throw error;
    }
    this.engine.observe('batch', started, { counts: batch, opened: 0, updated: 0, resolved: 0 });
    return {
      runId,
      status: 'completed',
      dryRun: request.dryRun ?? false,
      from: request.from,
      to: request.to,
      counts,
      amountAtStake: totalAtStake(counts),
      windows: windows.length,
    };
  }

  private async findRun(runId: string): Promise<RunRow | null> {
    const rows = (await this.dataSource.query(
      `SELECT id, processor, currency, period_from, period_to, dry_run, status, next_from, counts
         FROM reconciliation_runs WHERE id = $1`,
      [runId],
    )) as RunRow[];
    return rows[0] ?? null;
  }
}

function validatePeriod(request: ReconcilePeriodRequest): void {
  const { from, to, currency, windowMs } = request;
  if (!(from instanceof Date) || Number.isNaN(from.getTime())) {
    throw new ReconciliationRequestError('from must be a valid date');
  }
  if (!(to instanceof Date) || Number.isNaN(to.getTime())) {
    throw new ReconciliationRequestError('to must be a valid date');
  }
  if (from.getTime() >= to.getTime()) {
    throw new ReconciliationRequestError('from must be before to');
  }
  if (currency != null && !isKnownCurrency(currency)) {
    throw new ReconciliationRequestError(`unknown ISO 4217 currency ${currency}`);
  }
  if (windowMs !== undefined && (!Number.isSafeInteger(windowMs) || windowMs <= 0)) {
    throw new ReconciliationRequestError('windowMs must be a positive whole number');
  }
}
