import { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../../../observability/src';
import type { Metrics } from '../../../observability/src';
import {
  COMPUTE_ITEMS,
  COMPUTE_STAGES,
  ComputeStage,
  PASS_TABLES,
  SOURCE_STAGES,
} from './compute-sql';
import {
  CHANGED_ITEMS,
  COUNT_ITEMS,
  CREATE_ANCHORS,
  INSERT_ITEMS,
  SOURCE_ANCHORS,
  UPDATE_ITEMS,
  WRITE_EXCEPTIONS,
} from './matching-sql';
import { StatusCounts, countsFromRows, emptyCounts } from './reconciliation-counts';
import { TimeWindow } from './reconciliation-windows';
import { OutsideWindowLookup, windowAnchorsAndTransactions } from './window-pass';

/** One writer of items and exceptions at a time (real time, batch windows, pulls). */
const RECONCILIATION_WRITER_LOCK = 73_011_986;

/** Memory per hash/sort of a batch window's statements (SET LOCAL: this transaction only). */
const BATCH_WORK_MEM = '256MB';

export const DEFAULT_RECONCILIATION_GRACE_MS = 10 * 60_000;

export interface ReconciliationEngineOptions {
  /**
   * A result other than `matched` for an item whose newest fact (gateway change, balance
   * transaction received) is younger than this is not written yet: the other side may simply
   * not have arrived (real-time reconciliation raises no false alarm). Default 10 min.
   */
  readonly graceMs?: number;
  readonly now?: () => Date;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** How batch windows find transactions outside them (window-pass.ts); default `auto`. */
  readonly outsideWindowLookup?: OutsideWindowLookup;
}

export interface ReconcileScope {
  readonly processor?: string | null;
  readonly currency?: string | null;
}

/** One of `count` disjoint parts of a window (anchors by hash), reconciled in parallel. */
export interface WindowShard {
  readonly count: number;
  readonly index: number;
}

const WHOLE_WINDOW: WindowShard = { count: 1, index: 0 };

/** The most shards (transactions side by side) a window may be split into. */
export const MAX_WINDOW_SHARDS = 16;

/** What touched facts name: our payment ids, and/or the processor's references of one processor. */
export interface ReconcileSourcesRequest {
  readonly processor?: string;
  readonly sourceReferences?: readonly string[];
  readonly paymentIds?: readonly string[];
}

export interface PassResult {
  readonly counts: StatusCounts;
  /** Exceptions opened, updated (type or amount changed) and resolved by 'system'. */
  readonly opened: number;
  readonly updated: number;
  readonly resolved: number;
}

function validShard(shard: WindowShard): boolean {
  const { count, index } = shard;
  return (
    Number.isInteger(count) &&
    Number.isInteger(index) &&
    count >= 1 &&
    count <= MAX_WINDOW_SHARDS &&
    index >= 0 &&
    index < count
  );
}

const NOTHING: PassResult = { counts: emptyCounts(), opened: 0, updated: 0, resolved: 0 };

/**
 * The matching engine (three ways: processor balance transactions ↔ payments/refunds/disputes/
 * payouts ↔ ledger lines), set-based: a pass is a few SQL statements whatever its size.
 */
export class ReconciliationEngine {
  readonly graceMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ReconciliationEngineOptions = {},
  ) {
    const grace = options.graceMs ?? DEFAULT_RECONCILIATION_GRACE_MS;
    if (!Number.isSafeInteger(grace) || grace < 0) {
      throw new RangeError('reconciliation grace must be a non-negative whole number of ms');
    }
    this.graceMs = grace;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * One window of a period, inside the caller's transaction: items whose `occurred_at` falls in
   * [from, to) (of one shard: the shards of a window are disjoint and together the whole). A dry
   * run computes the same counts and writes nothing.
   */
  async reconcileWindow(
    tx: EntityManager,
    window: TimeWindow,
    scope: ReconcileScope,
    dryRun: boolean,
    runId: string | null,
    shard: WindowShard = WHOLE_WINDOW,
  ): Promise<PassResult> {
    if (!validShard(shard))
      throw new RangeError(`window shard: 0 <= index < count <= ${MAX_WINDOW_SHARDS}`);
    // Shards of one window write disjoint items side by side (shared); a real-time pass waits.
    await this.prepare(tx, dryRun, shard.count > 1 ? 'shared' : 'exclusive');
    // A window can hold a million items: hash joins and aggregates in memory, not on disk.
    await tx.query(`SET LOCAL work_mem = '${BATCH_WORK_MEM}'`);
    // A background job: the pool's statement timeout is for interactive queries.
    await tx.query('SET LOCAL statement_timeout = 0');
    // JIT spent ~5 s compiling the compute statement of a 1M-item window, for no faster execution.
    await tx.query('SET LOCAL jit = off');
    await windowAnchorsAndTransactions(
      tx,
      { window, processor: scope.processor ?? null, count: shard.count, index: shard.index },
      this.options.outsideWindowLookup ?? 'auto',
    );
    return this.computeAndWrite(tx, [window.from, window.to], scope, dryRun, runId, shard, []);
  }

  /** Real time: re-reconciles only the items the given facts touch, in its own transaction. */
  async reconcileSources(request: ReconcileSourcesRequest): Promise<PassResult> {
    const paymentIds = [...new Set(request.paymentIds ?? [])];
    const references = [...new Set(request.sourceReferences ?? [])];
    if (references.length > 0 && !request.processor) {
      throw new RangeError('reconcileSources: source references need their processor');
    }
    if (paymentIds.length === 0 && references.length === 0) return NOTHING;
    const started = process.hrtime.bigint();
    const result = await this.dataSource.transaction((tx) =>
      this.anchorsAndWrite(tx, paymentIds, request.processor ?? null, references),
    );
    this.observe('realtime', started, result);
    return result;
  }

  /** The same as `reconcileSources`, inside the caller's transaction (e.g. an ingest). */
  async reconcileSourcesIn(
    tx: EntityManager,
    request: ReconcileSourcesRequest,
  ): Promise<PassResult> {
    const paymentIds = [...new Set(request.paymentIds ?? [])];
    const references = [...new Set(request.sourceReferences ?? [])];
    if (paymentIds.length === 0 && references.length === 0) return NOTHING;
    return this.anchorsAndWrite(tx, paymentIds, request.processor ?? null, references);
  }

  /**
   * The items the facts touch as they would be judged now, grace ignored, writing nothing
   * (rows of `rc_items`, snake_case). For read APIs such as a payout's reconciliation.
   */
  async preview(request: ReconcileSourcesRequest): Promise<Record<string, unknown>[]> {
    return this.dataSource.transaction(async (tx) => {
      await this.prepare(tx, true);
      await tx.query(SOURCE_ANCHORS, [
        [...(request.paymentIds ?? [])],
        request.processor ?? '',
        [...(request.sourceReferences ?? [])],
      ]);
      await this.computeItems(tx, [new Date(8.64e15), null, null, null, null]);
      return (await tx.query('SELECT * FROM rc_items ORDER BY item_key')) as Record<
        string,
        unknown
      >[];
    });
  }

  /** Reports a pass in the metrics (items per status, duration). */
  observe(mode: 'realtime' | 'batch', startedNs: bigint, result: PassResult): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
    metrics.reconciliationPassDuration.observe({ mode }, seconds);
    if (mode === 'batch') metrics.reconciliationLastSuccess.set({ mode }, Date.now() / 1000);
    for (const [status, c] of Object.entries(result.counts)) {
      if (c.count > 0) metrics.reconciliationItems.inc({ status, mode }, c.count);
    }
  }

  private async anchorsAndWrite(
    tx: EntityManager,
    paymentIds: readonly string[],
    processor: string | null,
    references: readonly string[],
  ): Promise<PassResult> {
    await this.prepare(tx, false, 'exclusive');
    await tx.query(SOURCE_ANCHORS, [paymentIds, processor ?? '', references]);
    return this.computeAndWrite(tx, [null, null], {}, false, null);
  }

  private async prepare(
    tx: EntityManager,
    dryRun: boolean,
    lock: 'shared' | 'exclusive' = 'exclusive',
  ): Promise<void> {
    if (!dryRun) {
      const fn = lock === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
      await tx.query(`SELECT ${fn}($1)`, [RECONCILIATION_WRITER_LOCK]);
    }
    // Temporary tables of an earlier pass in this transaction are dropped first.
    await tx.query(`DROP TABLE IF EXISTS ${PASS_TABLES.join(', ')}`);
    await tx.query(CREATE_ANCHORS);
  }

  /**
   * The staged computation of `rc_items` from `rc_anchor` (compute-sql.ts): first the processor
   * side by the anchors' references (`sourceStages`; a batch window has built `rc_bt` already).
   */
  private async computeItems(
    tx: EntityManager,
    params: unknown[],
    shard: WindowShard = WHOLE_WINDOW,
    sourceStages: readonly ComputeStage[] = SOURCE_STAGES,
  ): Promise<void> {
    if (sourceStages.length > 0) await tx.query('ANALYZE rc_anchor');
    for (const stage of [...sourceStages, ...COMPUTE_STAGES]) {
      if (stage.sortedGroups) await tx.query('SET LOCAL enable_hashagg = off');
      await tx.query(stage.sql, stage.sharded ? [shard.count, shard.index] : []);
      if (stage.sortedGroups) await tx.query('SET LOCAL enable_hashagg TO DEFAULT');
      await tx.query(`ANALYZE ${stage.table}`);
    }
    await tx.query(COMPUTE_ITEMS, params);
  }

  private async computeAndWrite(
    tx: EntityManager,
    window: readonly [Date | null, Date | null],
    scope: ReconcileScope,
    dryRun: boolean,
    runId: string | null,
    shard: WindowShard = WHOLE_WINDOW,
    sourceStages: readonly ComputeStage[] = SOURCE_STAGES,
  ): Promise<PassResult> {
    const cutoff = new Date(this.now().getTime() - this.graceMs);
    await this.computeItems(
      tx,
      [cutoff, window[0], window[1], scope.processor ?? null, scope.currency ?? null],
      shard,
      sourceStages,
    );
    // Fresh statistics for the writing statement's joins (a handful of items or a million).
    await tx.query('ANALYZE rc_items');
    const counts = countsFromRows(await tx.query(COUNT_ITEMS));
    if (dryRun) return { counts, opened: 0, updated: 0, resolved: 0 };
    await tx.query(CHANGED_ITEMS);
    await tx.query('ANALYZE rc_changed');
    await tx.query(INSERT_ITEMS, [runId]);
    await tx.query(UPDATE_ITEMS, [runId]);
    const [written] = (await tx.query(WRITE_EXCEPTIONS, [runId])) as {
      opened: number;
      updated: number;
      resolved: number;
    }[];
    return {
      counts,
      opened: written.opened,
      updated: written.updated,
      resolved: written.resolved,
    };
  }
}
