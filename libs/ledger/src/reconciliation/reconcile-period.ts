import { DataSource } from 'typeorm';
import { isKnownCurrency } from '../../../domain/src';
import { holdAdvisoryLock } from '../../../persistence/src';
import { MAX_WINDOW_SHARDS, PassResult, ReconciliationEngine } from './reconciliation-engine';
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
  /**
   * Transactions reconciling one window side by side, each a disjoint part of its items
   * (default: the runner's `concurrency`, 2). 1 = one transaction per window.
   */
  readonly concurrency?: number;
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

/** One batch run writes at a time (held on its own connection for the run). */
const BATCH_RUN_LOCK = 73_011_987;

export const DEFAULT_BATCH_CONCURRENCY = 2;

export interface ReconciliationRunsOptions {
  /** Transactions per window (see `ReconcilePeriodRequest.concurrency`); pool ≥ this + 1. */
  readonly concurrency?: number;
}

/**
 * Batch reconciliation of a period (`reconciliation_runs`): the period is processed window by
 * window. A window is split into `concurrency` disjoint shards (its anchors by hash), each
 * reconciled in its own transaction, side by side (one core each); once all have committed,
 * the window's counts are added to the run and `next_from` moves to its end. A run interrupted
 * anywhere resumes at its first window not recorded (`resumeRun`): a shard that had committed
 * is recomputed, which writes nothing new (unchanged items are not rewritten, an open
 * exception is not reopened), so the run ends with the same items and counts. A dry run
 * records a run row with the counts, and writes no item or exception.
 */
export class ReconciliationRuns {
  private readonly concurrency: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly engine: ReconciliationEngine,
    options: ReconciliationRunsOptions = {},
  ) {
    this.concurrency = options.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
    if (!validConcurrency(this.concurrency)) {
      throw new RangeError(
        `reconciliation batch concurrency must be a whole number 1–${MAX_WINDOW_SHARDS}`,
      );
    }
  }

  async reconcilePeriod(request: ReconcilePeriodRequest): Promise<ReconciliationRunResult> {
    validatePeriod(request);
    if (request.concurrency !== undefined && !validConcurrency(request.concurrency)) {
      throw new ReconciliationRequestError(
        `concurrency must be a whole number 1–${MAX_WINDOW_SHARDS}`,
      );
    }
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
    options: Pick<ReconcilePeriodRequest, 'windowMs' | 'afterWindow' | 'concurrency'> = {},
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
    const dryRun = request.dryRun ?? false;
    const shards = request.concurrency ?? this.concurrency;
    const release = dryRun ? async () => undefined : await this.holdRunLock();
    try {
      for (const window of windows) {
        const from = new Date(Math.max(window.from.getTime(), resumeAt.getTime()));
        // Every shard settles before the window is judged: none is left running on failure.
        const settled = await Promise.allSettled(
          Array.from({ length: shards }, (_, index) =>
            this.dataSource.transaction((tx) =>
              this.engine.reconcileWindow(tx, { from, to: window.to }, scope, dryRun, runId, {
                count: shards,
                index,
              }),
            ),
          ),
        );
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed) throw failed.reason;
        const passes = settled.map((s) => (s as PromiseFulfilledResult<PassResult>).value);
        const windowCounts = passes.reduce(
          (sum: StatusCounts, pass: PassResult) => addCounts(sum, pass.counts),
          emptyCounts(),
        );
        counts = addCounts(counts, windowCounts);
        await this.dataSource.query(
          `UPDATE reconciliation_runs SET next_from = $2, counts = $3::jsonb WHERE id = $1`,
          [runId, window.to, JSON.stringify(counts)],
        );
        batch = addCounts(batch, windowCounts);
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
    } finally {
      await release();
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

  /** Two runs never write the same window at once: the second waits for the first. */
  private holdRunLock(): Promise<() => Promise<void>> {
    return holdAdvisoryLock(this.dataSource, BATCH_RUN_LOCK);
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

function validConcurrency(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_WINDOW_SHARDS;
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
