/**
 * The batch window's first stages (docs/reconciliation-engine.md, "Batch windows"): the window's
 * balance transactions are mapped to their anchors ONCE, aggregated per source, and that same
 * table gives both the anchors and (with the transactions of those anchors outside the window)
 * the processor side `rc_bt`. A real-time pass starts from a handful of anchors instead and
 * reads their transactions through their references (compute-sql.ts, SOURCE_STAGES).
 *
 * Parameters of every statement here: $1 from, $2 to (the window [from, to)), $3 processor or
 * null, $4 shards, $5 shard (as `inShard`).
 */
import { BT_PER_ANCHOR } from './compute-sql';
import { BT_ANCHOR, BT_KIND, btAnchorJoins, inShard } from './matching-sql';

/** Dispute statuses in which the processor has withdrawn (or returned) the disputed amount. */
const CHARGEBACK = `('NEEDS_RESPONSE', 'UNDER_REVIEW', 'LOST', 'WON')`;

/**
 * Balance transactions whose `created_at` satisfies `timeTest`, each with the anchor it belongs
 * to on our side (`BT_ANCHOR`). Transactions without a source name no item and are left out.
 * Refund references are made distinct first: two refund rows of one payment sharing a processor
 * reference must not count its transaction twice.
 */
const mappedBalanceTransactions = (timeTest: string) => `
  SELECT k.kind, b.processor, ${BT_ANCHOR} AS anchor,
    b.source_reference, b.amount, b.fee, b.currency, b.created_at
  FROM processor_balance_transactions b
  ${btAnchorJoins(`(SELECT DISTINCT processor_reference, payment_id FROM refunds
              WHERE processor_reference IS NOT NULL)`)}
  WHERE ${timeTest} AND ($3::text IS NULL OR b.processor = $3)
    AND k.kind <> 'other' AND b.source_reference IS NOT NULL`;

/** The per-source aggregates of a set of mapped transactions `m` (as BALANCE_TRANSACTIONS). */
const PER_SOURCE = `
  count(*)::int AS n, sum(m.amount)::bigint AS amount, sum(m.fee)::bigint AS fee,
  sum(abs(m.amount))::bigint AS sum_abs, max(abs(m.amount))::bigint AS max_abs,
  min(m.currency) AS currency, max(m.currency) AS currency_max,
  min(m.created_at) AS first_at, max(m.created_at) AS last_at`;

/** The window's transactions of this shard, per (anchor, source). */
export const WINDOW_MAP = `
  CREATE TEMP TABLE rc_map ON COMMIT DROP AS
  SELECT m.kind, m.processor, m.anchor, m.source_reference, ${PER_SOURCE}
    FROM (${mappedBalanceTransactions('b.created_at >= $1 AND b.created_at < $2')}) m
   WHERE ${inShard('m.anchor', '$4', '$5')}
   GROUP BY m.kind, m.processor, m.anchor, m.source_reference`;

/**
 * Anchors of a period window: what the processor reported in it (`rc_map`), and what our side
 * did in it (payments captured, refunds succeeded, chargebacks, payouts paid). The item is
 * later kept only if its `occurred_at` (the earliest of those times) falls in the window, so
 * each item belongs to exactly one window. Only the anchors of this shard.
 */
export const WINDOW_ANCHORS = `
  INSERT INTO rc_anchor (kind, processor, anchor)
  SELECT DISTINCT kind, processor, anchor FROM (
    SELECT kind, processor, anchor FROM rc_map
    UNION ALL
    SELECT * FROM (
      SELECT 'charge' AS kind, p.processor, p.id AS anchor FROM payments p
       WHERE p.created_at >= $1 AND p.created_at < $2 AND p.amount_captured > 0
         AND p.processor IS NOT NULL AND ($3::text IS NULL OR p.processor = $3)
      UNION ALL
      SELECT 'refund', p.processor, p.id FROM refunds r JOIN payments p ON p.id = r.payment_id
       WHERE r.created_at >= $1 AND r.created_at < $2 AND r.status = 'SUCCEEDED'
         AND p.processor IS NOT NULL AND ($3::text IS NULL OR p.processor = $3)
      UNION ALL
      SELECT 'dispute', d.processor, d.id FROM disputes d
       WHERE d.created_at >= $1 AND d.created_at < $2 AND d.status IN ${CHARGEBACK}
         AND ($3::text IS NULL OR d.processor = $3)
      UNION ALL
      SELECT 'payout', o.processor, o.processor_reference FROM payouts o
       WHERE o.created_at >= $1 AND o.created_at < $2 AND o.status = 'PAID'
         AND ($3::text IS NULL OR o.processor = $3)
    ) ours
    WHERE ${inShard('ours.anchor', '$4', '$5')}
  ) x`;

/** Transactions outside the window: before it or from its end on. */
const OUTSIDE = `(b.created_at < $1 OR b.created_at >= $2)`;

/**
 * How many transactions lie outside the window, counted up to $4 (so it costs at most $4 index
 * entries): few → OUTSIDE_BY_SCAN, many → OUTSIDE_BY_REFERENCES. $1 from, $2 to, $3 processor.
 */
export const COUNT_OUTSIDE = `
  SELECT count(*)::int AS n FROM (
    (SELECT 1 FROM processor_balance_transactions b
      WHERE b.created_at < $1 AND ($3::text IS NULL OR b.processor = $3) LIMIT $4)
    UNION ALL
    (SELECT 1 FROM processor_balance_transactions b
      WHERE b.created_at >= $2 AND ($3::text IS NULL OR b.processor = $3) LIMIT $4)
  ) x`;

/**
 * The anchors' transactions outside the window, found by mapping every outside transaction
 * (cheap when there are few: a period reconciled in one window, or the latest window).
 */
export const OUTSIDE_BY_SCAN = `
  CREATE TEMP TABLE rc_outside ON COMMIT DROP AS
  SELECT a.id, m.source_reference, ${PER_SOURCE}
    FROM (${mappedBalanceTransactions(OUTSIDE)}) m
    JOIN rc_anchor a ON a.kind = m.kind AND a.processor = m.processor AND a.anchor = m.anchor
   GROUP BY a.id, m.source_reference`;

/**
 * The same found through the anchors' references (`rc_refs`, compute-sql.ts): index lookups
 * per reference, whatever the number of transactions outside the window.
 */
export const OUTSIDE_BY_REFERENCES = `
  CREATE TEMP TABLE rc_outside ON COMMIT DROP AS
  SELECT r.id, m.source_reference, ${PER_SOURCE}
    FROM rc_refs r
    JOIN processor_balance_transactions m
      ON m.processor = r.processor AND m.source_reference = r.reference
   WHERE (m.created_at < $1 OR m.created_at >= $2) AND ${BT_KIND('m')} = r.kind
   GROUP BY r.id, m.source_reference`;

/** The window's per-source rows (`rc_map`) of the shard's anchors, with the anchor's id. */
const WINDOW_PER_SOURCE = `
  SELECT a.id, m.source_reference, m.n, m.amount, m.fee, m.sum_abs, m.max_abs, m.currency,
         m.currency_max, m.first_at, m.last_at
    FROM rc_map m
    JOIN rc_anchor a ON a.kind = m.kind AND a.processor = m.processor AND a.anchor = m.anchor`;

/**
 * The processor side per anchor (`rc_bt`, as compute-sql.ts's BALANCE_TRANSACTIONS) when no
 * anchor has a transaction outside the window: `rc_map` is one row per source already.
 */
export const WINDOW_BALANCE_TRANSACTIONS_INSIDE = `
  CREATE TEMP TABLE rc_bt ON COMMIT DROP AS
  WITH per_source AS (${WINDOW_PER_SOURCE})
  ${BT_PER_ANCHOR}`;

/**
 * The same when some have (`rc_outside`): the window's and the outside per-source rows merged
 * per source, then per anchor.
 */
export const WINDOW_BALANCE_TRANSACTIONS = `
  CREATE TEMP TABLE rc_bt ON COMMIT DROP AS
  WITH per_source AS (
    SELECT id, source_reference, sum(n) AS n, sum(amount) AS amount, sum(fee) AS fee,
           sum(sum_abs) AS sum_abs, max(max_abs) AS max_abs, min(currency) AS currency,
           max(currency_max) AS currency_max, min(first_at) AS first_at, max(last_at) AS last_at
      FROM (${WINDOW_PER_SOURCE} UNION ALL SELECT * FROM rc_outside) s
     GROUP BY id, source_reference
  )
  ${BT_PER_ANCHOR}`;
