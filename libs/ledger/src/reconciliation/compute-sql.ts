/**
 * The computation of a pass's items from its anchors (`rc_anchor`), in STAGES: each stage is
 * one set-based statement into a temporary table that is analyzed before the next reads it, so
 * every join is planned on real row counts (one statement with a dozen CTEs was planned on
 * guesses: a million balance transactions estimated at 45 rows, sorted instead of hashed).
 * Every join is an equi-join on a key: hash joins over a whole period, index lookups for the
 * handful of anchors of a real-time pass. docs/reconciliation-engine.md.
 */
import { BT_KIND, inShard } from './matching-sql';

/** Dispute statuses in which the processor has withdrawn the disputed amount (a chargeback). */
const WITHDRAWN = `('NEEDS_RESPONSE', 'UNDER_REVIEW', 'LOST')`;

/**
 * The processor references each anchor's balance transactions carry: a payment's intent and
 * charge ids, its refunds' ids, a dispute's id, a payout's id, the source of a `src:` anchor.
 * Distinct per anchor by construction (no union-wide deduplication over a million rows).
 */
const REFS = `
  CREATE TEMP TABLE rc_refs ON COMMIT DROP AS
  SELECT a.id, a.kind, a.processor, r.reference
    FROM rc_anchor a
    JOIN payments p ON p.id = a.anchor
    LEFT JOIN payment_fees pf ON pf.payment_id = p.id
    CROSS JOIN LATERAL (VALUES (p.processor_reference),
      (CASE WHEN pf.charge_reference IS DISTINCT FROM p.processor_reference THEN pf.charge_reference END)
    ) r(reference)
   WHERE a.kind = 'charge' AND r.reference IS NOT NULL
  UNION ALL
  SELECT DISTINCT a.id, a.kind, a.processor, r.processor_reference
    FROM rc_anchor a JOIN refunds r ON r.payment_id = a.anchor
   WHERE a.kind = 'refund' AND r.processor_reference IS NOT NULL
  UNION ALL
  SELECT a.id, a.kind, a.processor, d.processor_reference
    FROM rc_anchor a JOIN disputes d ON d.id = a.anchor
   WHERE a.kind = 'dispute' AND a.anchor NOT LIKE 'src:%'
  UNION ALL
  SELECT id, kind, processor, substr(anchor, 5) FROM rc_anchor WHERE anchor LIKE 'src:%'
  UNION ALL
  SELECT id, kind, processor, anchor FROM rc_anchor WHERE kind = 'payout'`;

/**
 * The processor side per anchor (`rc_bt`'s columns) from a CTE `per_source` of per-(anchor id,
 * source) aggregates: the number of sources tells a refund duplicated at the processor from
 * two refunds. Shared by real-time passes (below) and batch windows (window-sql.ts).
 */
export const BT_PER_ANCHOR = `
  SELECT id,
         sum(n)::int AS n, count(*)::int AS n_sources,
         sum(amount)::bigint AS amount, sum(fee)::bigint AS fee,
         sum(sum_abs)::bigint AS sum_abs, max(max_abs)::bigint AS max_abs,
         min(currency) AS currency, max(currency_max) AS currency_max,
         min(first_at) AS first_at, max(last_at) AS last_at,
         min(source_reference) AS source
    FROM per_source
   GROUP BY id`;

/**
 * The processor side per anchor: its balance transactions of the anchor's kind, aggregated per
 * source and then per anchor (the number of sources tells a refund duplicated at the processor
 * from two refunds). The kind test is a FILTER, not a WHERE: as a WHERE, the planner guessed
 * 0.5 % of rows survive it and sorted a million rows it thought were a handful.
 */
const BALANCE_TRANSACTIONS = `
  CREATE TEMP TABLE rc_bt ON COMMIT DROP AS
  WITH per_source AS (
    SELECT r.id, b.source_reference,
           count(*) FILTER (WHERE k.kind = r.kind) AS n,
           sum(b.amount) FILTER (WHERE k.kind = r.kind) AS amount,
           sum(b.fee) FILTER (WHERE k.kind = r.kind) AS fee,
           sum(abs(b.amount)) FILTER (WHERE k.kind = r.kind) AS sum_abs,
           max(abs(b.amount)) FILTER (WHERE k.kind = r.kind) AS max_abs,
           min(b.currency) FILTER (WHERE k.kind = r.kind) AS currency,
           max(b.currency) FILTER (WHERE k.kind = r.kind) AS currency_max,
           min(b.created_at) FILTER (WHERE k.kind = r.kind) AS first_at,
           max(b.created_at) FILTER (WHERE k.kind = r.kind) AS last_at
      FROM rc_refs r
      JOIN processor_balance_transactions b
        ON b.processor = r.processor AND b.source_reference = r.reference
      CROSS JOIN LATERAL (SELECT ${BT_KIND('b')} AS kind) k
     GROUP BY r.id, b.source_reference
    HAVING count(*) FILTER (WHERE k.kind = r.kind) > 0
  )
  ${BT_PER_ANCHOR}`;

/** A payout's own view: the net of the balance transactions it paid out. */
const PAYOUT_LINKS = `
  CREATE TEMP TABLE rc_payout_links ON COMMIT DROP AS
  SELECT a.id, count(*)::int AS n, sum(b.net)::bigint AS net,
         min(b.currency) AS currency, min(b.created_at) AS first_at, max(b.created_at) AS last_at
    FROM rc_anchor a JOIN processor_balance_transactions b
      ON b.processor = a.processor AND b.payout_reference = a.anchor
   WHERE a.kind = 'payout' AND b.type <> 'payout'
   GROUP BY a.id`;

/** The gateway side per anchor: captured amount, succeeded refunds, chargeback, paid payout. */
const GATEWAY = `
  CREATE TEMP TABLE rc_gw ON COMMIT DROP AS
  SELECT a.id, p.id AS payment_id, NULL::text AS refund_id,
         NULL::text AS dispute_id, NULL::text AS payout_id, p.processor_reference AS reference,
         p.amount_captured::bigint AS amount, p.currency, p.created_at, p.updated_at
    FROM rc_anchor a JOIN payments p ON p.id = a.anchor
   WHERE a.kind = 'charge' AND p.amount_captured > 0
  UNION ALL
  SELECT a.id, a.anchor,
         CASE WHEN count(*) = 1 THEN min(r.id) END, NULL, NULL, min(r.processor_reference),
         -sum(r.amount)::bigint, min(r.currency), min(r.created_at), max(r.updated_at)
    FROM rc_anchor a JOIN refunds r ON r.payment_id = a.anchor
   WHERE a.kind = 'refund' AND r.status = 'SUCCEEDED'
   GROUP BY a.id, a.anchor
  UNION ALL
  SELECT a.id, d.payment_id, NULL, d.id, NULL, d.processor_reference,
         CASE WHEN d.status IN ${WITHDRAWN} THEN -d.amount ELSE 0 END, d.currency,
         d.created_at, d.updated_at
    FROM rc_anchor a JOIN disputes d ON d.id = a.anchor
   WHERE a.kind = 'dispute'
  UNION ALL
  SELECT a.id, NULL, NULL, NULL, o.id, o.processor_reference,
         o.amount, o.currency, o.created_at, o.updated_at
    FROM rc_anchor a JOIN payouts o ON o.processor = a.processor AND o.processor_reference = a.anchor
   WHERE a.kind = 'payout' AND o.status = 'PAID'`;

/**
 * The ledger side of payments (charge and refunds): what their posted entries moved on the
 * processor receivable, one row per payment. $1 shards, $2 shard (as the window's anchors): the
 * entries of other shards' payments are dropped before the join (the anchors of a shard are
 * exactly the payments whose hash says so), which halves this stage's hash of the journal for
 * two shards.
 */
const LEDGER_PAYMENTS = `
  CREATE TEMP TABLE rc_ledger_payments ON COMMIT DROP AS
  SELECT e.payment_id,
         sum(l.amount) FILTER (WHERE e.kind IN ('sale', 'capture') AND l.direction = 'debit')::bigint AS charge_amount,
         min(l.currency) FILTER (WHERE e.kind IN ('sale', 'capture')) AS charge_currency,
         sum(l.amount) FILTER (WHERE e.kind = 'processor_fee' AND l.direction = 'credit')::bigint AS fee,
         sum(CASE WHEN e.kind = 'refund' AND l.direction = 'credit' THEN -l.amount
                  WHEN e.kind = 'refund_reversal' AND l.direction = 'debit' THEN l.amount END)::bigint AS refund_amount,
         min(l.currency) FILTER (WHERE e.kind IN ('refund', 'refund_reversal')) AS refund_currency
    FROM (SELECT DISTINCT anchor FROM rc_anchor
           WHERE kind IN ('charge', 'refund') AND anchor NOT LIKE 'src:%') x
    JOIN journal_entries e ON e.payment_id = x.anchor
     AND ${inShard('e.payment_id', '$1', '$2')}
    JOIN journal_lines l ON l.entry_id = e.id
    JOIN ledger_accounts acc ON acc.id = l.account_id
   WHERE e.status = 'posted' AND acc.code LIKE 'receivable:%'
     AND e.kind IN ('sale', 'capture', 'processor_fee', 'refund', 'refund_reversal')
   GROUP BY e.payment_id`;

/** A set of journal lines as one signed amount (debits +, credits −). */
const SIGNED_SUM = `sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE -l.amount END)::bigint`;

/**
 * The ledger side of payouts (the bank posting) and disputes (the receivable movement), and the
 * correcting entries operators booked on exceptions, per item.
 */
const LEDGER_EVENTS = `
  CREATE TEMP TABLE rc_ledger_events ON COMMIT DROP AS
  SELECT a.id, ${SIGNED_SUM} AS amount, min(l.currency) AS currency, NULL::bigint AS correction
    FROM rc_anchor a
    JOIN payouts o ON o.processor = a.processor AND o.processor_reference = a.anchor
    CROSS JOIN (VALUES (':paid'), (':failed')) s(suffix)
    JOIN journal_entries e ON e.source_event_id = o.id || s.suffix
    JOIN journal_lines l ON l.entry_id = e.id
    JOIN ledger_accounts acc ON acc.id = l.account_id AND acc.code LIKE 'bank:%'
   WHERE a.kind = 'payout'
   GROUP BY a.id
  UNION ALL
  SELECT a.id, ${SIGNED_SUM}, min(l.currency), NULL
    FROM rc_anchor a
    CROSS JOIN (VALUES (':withdrawn'), (':won')) s(suffix)
    JOIN journal_entries e ON e.source_event_id = a.anchor || s.suffix
    JOIN journal_lines l ON l.entry_id = e.id
    JOIN ledger_accounts acc ON acc.id = l.account_id AND acc.code LIKE 'receivable:%'
   WHERE a.kind = 'dispute'
   GROUP BY a.id
  UNION ALL
  SELECT a.id, NULL, NULL, ${SIGNED_SUM}
    FROM rc_anchor a
    JOIN reconciliation_items i ON i.processor = a.processor AND i.item_key = a.kind || ':' || a.anchor
    JOIN reconciliation_exceptions x ON x.item_id = i.id
    JOIN journal_entries e ON e.source_event_id = x.id || ':correction'
    JOIN journal_lines l ON l.entry_id = e.id
    JOIN ledger_accounts acc ON acc.id = l.account_id AND acc.code LIKE 'receivable:%'
   GROUP BY a.id`;

/**
 * Every item of the anchors from the stages above, with its status and amount at stake. $1
 * grace cutoff: a result other than `matched` whose newest fact (a balance transaction's
 * creation, the gateway object's last change) is later than it is left out (reconsidered by the
 * next pass). $2/$3 window [from, to) on occurred_at or nulls, $4 processor, $5 currency.
 *
 * Amounts are signed as their effect on the processor balance (charge +, refund and dispute −)
 * on every side; fees are positive. For a payout: processor_amount = the net of the
 * transactions it paid out (or its own transaction's amount when none is linked), gateway =
 * the payout's amount, ledger = the bank posting.
 */
const ITEMS = `
  CREATE TEMP TABLE rc_items ON COMMIT DROP AS
  WITH joined AS (
    SELECT a.kind, a.processor, a.kind || ':' || a.anchor AS item_key,
           g.payment_id, g.refund_id, g.dispute_id, g.payout_id,
           coalesce(b.source, g.reference, CASE WHEN a.anchor LIKE 'src:%' THEN substr(a.anchor, 5) END) AS source_reference,
           CASE WHEN a.kind = 'payout' THEN coalesce(pl.n, 0) ELSE coalesce(b.n, 0) END AS n,
           coalesce(b.n_sources, 0) AS n_sources,
           CASE WHEN a.kind = 'payout' THEN coalesce(pl.net, -b.amount) ELSE b.amount END AS p_amount,
           CASE WHEN a.kind = 'payout' THEN NULL ELSE b.fee END AS p_fee,
           coalesce(b.n, 0) + coalesce(pl.n, 0) AS n_any,
           b.sum_abs, b.max_abs, coalesce(b.currency, pl.currency) AS p_currency, coalesce(b.currency_max, pl.currency) AS p_currency_max,
           g.amount AS g_amount, g.currency AS g_currency,
           CASE a.kind WHEN 'charge' THEN lp.charge_amount WHEN 'refund' THEN lp.refund_amount
                ELSE le.amount END AS l_amount,
           CASE a.kind WHEN 'charge' THEN coalesce(lp.fee, 0) END AS l_fee,
           CASE a.kind WHEN 'charge' THEN lp.charge_currency WHEN 'refund' THEN lp.refund_currency
                ELSE le.currency END AS l_currency,
           coalesce(le.correction, 0) AS correction,
           coalesce(least(b.first_at, g.created_at), pl.first_at) AS occurred_at,
           greatest(b.last_at, g.updated_at, pl.last_at) AS last_fact_at
      FROM rc_anchor a
      LEFT JOIN rc_bt b ON b.id = a.id
      LEFT JOIN rc_payout_links pl ON pl.id = a.id
      LEFT JOIN rc_gw g ON g.id = a.id
      LEFT JOIN rc_ledger_payments lp ON a.kind IN ('charge', 'refund') AND lp.payment_id = a.anchor
      LEFT JOIN (
        SELECT id, sum(amount)::bigint AS amount, min(currency) AS currency,
               sum(correction)::bigint AS correction
          FROM rc_ledger_events GROUP BY id
      ) le ON le.id = a.id
  ),
  judged AS (
    SELECT j.*, s.status,
      CASE s.status
        WHEN 'matched' THEN 0
        WHEN 'duplicate' THEN CASE WHEN j.kind = 'charge' THEN j.sum_abs - j.max_abs
                                   ELSE abs(j.p_amount - coalesce(j.g_amount, j.l_amount, 0)) END
        WHEN 'currency_mismatch' THEN abs(coalesce(j.p_amount, j.g_amount, 0))
        WHEN 'missing_at_processor' THEN abs(coalesce(j.g_amount, j.l_amount, 0))
        WHEN 'missing_in_ledger' THEN abs(coalesce(j.p_amount, j.g_amount, 0))
        WHEN 'amount_mismatch' THEN greatest(abs(j.p_amount - coalesce(j.l_amount, 0)),
                                             abs(j.p_amount - coalesce(j.g_amount, j.p_amount)))
        WHEN 'fee_mismatch' THEN abs(j.p_fee - j.l_fee)
      END::bigint AS amount_at_stake
    FROM joined j
    -- OFFSET 0 keeps this a subquery evaluated once per row; inlined, the CASE was evaluated
    -- again for each of the five places that read the status (500k items: 3.5 s → 2.9 s)
    CROSS JOIN LATERAL (SELECT CASE
      -- nothing anywhere (a payment with no refunds, say): no item
      WHEN j.n_any = 0 AND j.g_amount IS NULL AND j.l_amount IS NULL THEN NULL
      WHEN j.n_any = 0 AND coalesce(j.g_amount, 0) = 0 AND coalesce(j.l_amount, 0) = 0 THEN NULL
      WHEN j.kind = 'charge' AND j.n > 1 THEN 'duplicate'
      WHEN j.kind = 'refund' AND j.n > j.n_sources THEN 'duplicate'
      WHEN j.p_currency IS DISTINCT FROM j.p_currency_max
        OR (j.p_currency IS NOT NULL AND j.g_currency IS NOT NULL AND j.p_currency <> j.g_currency)
        OR (j.p_currency IS NOT NULL AND j.l_currency IS NOT NULL AND j.p_currency <> j.l_currency)
        THEN 'currency_mismatch'
      WHEN j.correction <> 0 AND j.kind <> 'payout'
        AND coalesce(j.p_amount, 0) - coalesce(j.p_fee, 0)
          = coalesce(j.l_amount, 0) - coalesce(j.l_fee, 0) + j.correction THEN 'matched'
      WHEN j.n_any = 0 THEN 'missing_at_processor'
      WHEN j.g_amount IS NULL OR j.l_amount IS NULL THEN 'missing_in_ledger'
      WHEN j.p_amount IS DISTINCT FROM j.l_amount OR j.p_amount IS DISTINCT FROM j.g_amount
        OR (j.kind = 'payout' AND j.l_amount IS DISTINCT FROM j.g_amount) THEN 'amount_mismatch'
      WHEN j.kind = 'charge' AND j.p_fee IS DISTINCT FROM j.l_fee THEN 'fee_mismatch'
      ELSE 'matched'
    END AS status OFFSET 0) s
  )
  SELECT kind, processor, item_key,
         coalesce(g_currency, p_currency, l_currency) AS currency,
         payment_id, refund_id, dispute_id, payout_id, source_reference,
         n AS balance_transaction_count, p_amount AS processor_amount, p_fee AS processor_fee,
         p_currency AS processor_currency, g_amount AS gateway_amount, l_amount AS ledger_amount,
         l_fee AS ledger_fee, status, amount_at_stake, occurred_at
    FROM judged
   WHERE status IS NOT NULL
     AND (status = 'matched' OR last_fact_at IS NULL OR last_fact_at <= $1)
     AND ($2::timestamptz IS NULL OR (occurred_at >= $2 AND occurred_at < $3))
     AND ($4::text IS NULL OR processor = $4)
     AND ($5::text IS NULL OR coalesce(g_currency, p_currency, l_currency) = $5)`;

/** A stage: the table it creates (analyzed after it) and its statement. */
export interface ComputeStage {
  readonly table: string;
  readonly sql: string;
  /**
   * Group by sorting, not hashing. A hash aggregate of a million groups with several sums
   * (numeric transition states) and text minimums spilled past 512 MB and took 11–12 s where
   * sort + group took 5.5 s (rc_bt, 1M items; rc_ledger_payments 8.7 s → 5.9 s).
   */
  readonly sortedGroups?: boolean;
  /** Takes the pass's shard as $1 (count) and $2 (index). */
  readonly sharded?: boolean;
}

/**
 * The processor side of a real-time pass (or preview), from its anchors: their references,
 * then their balance transactions. A batch window builds `rc_bt` its own way (window-sql.ts).
 */
export const SOURCE_STAGES: readonly ComputeStage[] = [
  { table: 'rc_refs', sql: REFS },
  { table: 'rc_bt', sql: BALANCE_TRANSACTIONS, sortedGroups: true },
];

/** The anchors' references alone (a batch window's outside transactions, window-sql.ts). */
export const REFERENCES_STAGE: ComputeStage = SOURCE_STAGES[0];

/** The stages after `rc_bt` and before `COMPUTE_ITEMS`, in order: every pass runs them. */
export const COMPUTE_STAGES: readonly ComputeStage[] = [
  { table: 'rc_payout_links', sql: PAYOUT_LINKS },
  { table: 'rc_gw', sql: GATEWAY },
  { table: 'rc_ledger_payments', sql: LEDGER_PAYMENTS, sortedGroups: true, sharded: true },
  { table: 'rc_ledger_events', sql: LEDGER_EVENTS },
];

/** The final stage (see ITEMS): `rc_items`. Parameters $1–$5 as documented there. */
export const COMPUTE_ITEMS = ITEMS;

/** Every temporary table of a pass, dropped before a new pass in the same transaction. */
export const PASS_TABLES = [
  'rc_anchor',
  'rc_map',
  'rc_outside',
  ...SOURCE_STAGES.map((s) => s.table),
  ...COMPUTE_STAGES.map((s) => s.table),
  'rc_items',
  'rc_changed',
] as const;
