import type { EntityManager } from 'typeorm';
import { REFERENCES_STAGE } from './compute-sql';
import type { TimeWindow } from './reconciliation-windows';
import {
  COUNT_OUTSIDE,
  OUTSIDE_BY_REFERENCES,
  OUTSIDE_BY_SCAN,
  WINDOW_ANCHORS,
  WINDOW_BALANCE_TRANSACTIONS,
  WINDOW_BALANCE_TRANSACTIONS_INSIDE,
  WINDOW_MAP,
} from './window-sql';

/**
 * How a window finds its anchors' balance transactions created outside it: `scan` maps every
 * outside transaction, `references` looks them up by the anchors' references; `auto` scans when
 * there are fewer outside transactions than anchors. The results are the same.
 */
export type OutsideWindowLookup = 'auto' | 'scan' | 'references';

export interface WindowShardScope {
  readonly window: TimeWindow;
  readonly processor: string | null;
  readonly count: number;
  readonly index: number;
}

/**
 * Fills `rc_anchor` and `rc_bt` for one shard of a batch window (window-sql.ts), inside the
 * caller's transaction, after `rc_anchor` was created.
 */
export async function windowAnchorsAndTransactions(
  tx: EntityManager,
  scope: WindowShardScope,
  lookup: OutsideWindowLookup,
): Promise<void> {
  const { window, processor, count, index } = scope;
  const params = [window.from, window.to, processor, count, index];
  await tx.query(WINDOW_MAP, params);
  await tx.query('ANALYZE rc_map');
  // The shard filter is estimated at 0.5 % of rows, so the DISTINCT of a million anchors was
  // sorted instead of hashed (~1 s more).
  await tx.query('SET LOCAL enable_sort = off');
  await tx.query(WINDOW_ANCHORS, params);
  await tx.query('SET LOCAL enable_sort TO DEFAULT');
  await tx.query('ANALYZE rc_anchor');
  if ((await outsideLookup(tx, scope, lookup)) === 'scan') {
    await tx.query(OUTSIDE_BY_SCAN, [window.from, window.to, processor]);
  } else {
    await tx.query(REFERENCES_STAGE.sql);
    await tx.query(`ANALYZE ${REFERENCES_STAGE.table}`);
    await tx.query(OUTSIDE_BY_REFERENCES, [window.from, window.to]);
  }
  const [{ outside }] = (await tx.query(`SELECT EXISTS (SELECT 1 FROM rc_outside) AS outside`)) as {
    outside: boolean;
  }[];
  if (outside) await tx.query('ANALYZE rc_outside');
  await tx.query(outside ? WINDOW_BALANCE_TRANSACTIONS : WINDOW_BALANCE_TRANSACTIONS_INSIDE);
  await tx.query('ANALYZE rc_bt');
}

async function outsideLookup(
  tx: EntityManager,
  scope: WindowShardScope,
  lookup: OutsideWindowLookup,
): Promise<'scan' | 'references'> {
  if (lookup !== 'auto') return lookup;
  const [{ anchors }] = (await tx.query(`SELECT count(*)::int AS anchors FROM rc_anchor`)) as {
    anchors: number;
  }[];
  const [{ n }] = (await tx.query(COUNT_OUTSIDE, [
    scope.window.from,
    scope.window.to,
    scope.processor,
    anchors + 1,
  ])) as { n: number }[];
  return n <= anchors ? 'scan' : 'references';
}
