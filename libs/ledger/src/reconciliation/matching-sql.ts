/**
 * The set-based matching statements (docs/reconciliation-engine.md). One reconciliation pass
 * works on a temporary table of ANCHORS (what identifies an item: a payment for its charge and
 * for its refunds, a dispute, a payout's processor id, or `src:<source>` for a processor balance
 * transaction nothing on our side knows), computes every item of those anchors in ONE statement
 * (`rc_items`), and then writes items and exceptions in one more. Every join is an equi-join on
 * a key (hash-join friendly over a whole period, index lookups for a handful of anchors).
 */

/** The kind of item a balance transaction belongs to (Stripe's types and the simulator's). */
export const BT_KIND = (b: string) => `
  CASE
    WHEN ${b}.reporting_category = 'dispute' OR ${b}.type IN ('dispute', 'adjustment_dispute') THEN 'dispute'
    WHEN ${b}.type IN ('charge', 'payment') THEN 'charge'
    WHEN ${b}.type IN ('refund', 'payment_refund') THEN 'refund'
    WHEN ${b}.type = 'payout' THEN 'payout'
    ELSE 'other'
  END`;

/** Dispute statuses in which the processor has withdrawn the disputed amount (a chargeback). */
const WITHDRAWN = `('NEEDS_RESPONSE', 'UNDER_REVIEW', 'LOST')`;
const CHARGEBACK = `('NEEDS_RESPONSE', 'UNDER_REVIEW', 'LOST', 'WON')`;

export const CREATE_ANCHORS = `
  CREATE TEMP TABLE rc_anchor (kind text NOT NULL, processor text NOT NULL, anchor text NOT NULL)
  ON COMMIT DROP`;

/**
 * The window's balance transactions, mapped to what they belong to on our side. $1 from, $2 to
 * (created_at in [from, to)), $3 processor or null.
 */
const WINDOW_BTS = `
  SELECT k.kind, b.processor,
    CASE k.kind
      WHEN 'charge' THEN coalesce(pf.payment_id, p.id)
      WHEN 'refund' THEN r.payment_id
      WHEN 'dispute' THEN d.id
      WHEN 'payout' THEN b.source_reference
    END AS mapped,
    coalesce(b.source_reference, b.id) AS source
  FROM processor_balance_transactions b
  CROSS JOIN LATERAL (SELECT ${BT_KIND('b')} AS kind) k
  LEFT JOIN payments p
    ON k.kind = 'charge' AND p.processor = b.processor AND p.processor_reference = b.source_reference
  LEFT JOIN payment_fees pf
    ON k.kind = 'charge' AND pf.processor = b.processor AND pf.charge_reference = b.source_reference
  LEFT JOIN refunds r ON k.kind = 'refund' AND r.processor_reference = b.source_reference
  LEFT JOIN disputes d
    ON k.kind = 'dispute' AND d.processor = b.processor AND d.processor_reference = b.source_reference
  WHERE b.created_at >= $1 AND b.created_at < $2 AND ($3::text IS NULL OR b.processor = $3)
    AND k.kind <> 'other'`;

/**
 * Anchors of a period window: what the processor reported in it, and what our side did in it
 * (payments captured, refunds succeeded, chargebacks, payouts paid). The item is later kept
 * only if its `occurred_at` (the earliest of those times) falls in the window, so each item
 * belongs to exactly one window. $1 from, $2 to, $3 processor or null.
 */
export const WINDOW_ANCHORS = `
  INSERT INTO rc_anchor (kind, processor, anchor)
  SELECT DISTINCT kind, processor, anchor FROM (
    SELECT kind, processor, coalesce(mapped, 'src:' || source) AS anchor FROM (${WINDOW_BTS}) w
    UNION ALL
    SELECT 'charge', p.processor, p.id FROM payments p
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
  ) x`;

/**
 * Anchors of the things some new facts touched (real time). $1 payment ids, $2 processor,
 * $3 processor references (balance transaction sources, payout ids): every item of those
 * payments (charge, refunds, disputes) and whatever those references belong to.
 */
export const SOURCE_ANCHORS = `
  INSERT INTO rc_anchor (kind, processor, anchor)
  SELECT DISTINCT kind, processor, anchor FROM (
    SELECT k.kind, p.processor, p.id AS anchor
      FROM payments p CROSS JOIN (VALUES ('charge'), ('refund')) k(kind)
     WHERE p.id = ANY($1::text[]) AND p.processor IS NOT NULL
    UNION ALL
    SELECT 'dispute', d.processor, d.id FROM disputes d WHERE d.payment_id = ANY($1::text[])
    UNION ALL
    SELECT k.kind, b.processor,
      CASE k.kind
        WHEN 'charge' THEN coalesce(pf.payment_id, p.id, 'src:' || b.source_reference)
        WHEN 'refund' THEN coalesce(r.payment_id, 'src:' || b.source_reference)
        WHEN 'dispute' THEN coalesce(d.id, 'src:' || b.source_reference)
        ELSE b.source_reference
      END
      FROM processor_balance_transactions b
      CROSS JOIN LATERAL (SELECT ${BT_KIND('b')} AS kind) k
      LEFT JOIN payments p
        ON k.kind = 'charge' AND p.processor = b.processor AND p.processor_reference = b.source_reference
      LEFT JOIN payment_fees pf
        ON k.kind = 'charge' AND pf.processor = b.processor AND pf.charge_reference = b.source_reference
      LEFT JOIN refunds r ON k.kind = 'refund' AND r.processor_reference = b.source_reference
      LEFT JOIN disputes d
        ON k.kind = 'dispute' AND d.processor = b.processor AND d.processor_reference = b.source_reference
     WHERE b.processor = $2 AND b.source_reference = ANY($3::text[]) AND k.kind <> 'other'
    UNION ALL
    SELECT 'payout', b.processor, b.payout_reference FROM processor_balance_transactions b
     WHERE b.processor = $2 AND b.payout_reference IS NOT NULL
       AND (b.source_reference = ANY($3::text[]) OR b.payout_reference = ANY($3::text[]))
    UNION ALL
    SELECT 'charge', p.processor, p.id FROM payments p
     WHERE p.processor = $2 AND p.processor_reference = ANY($3::text[])
    UNION ALL
    SELECT 'charge', pf.processor, pf.payment_id FROM payment_fees pf
     WHERE pf.processor = $2 AND pf.charge_reference = ANY($3::text[])
    UNION ALL
    SELECT 'payout', o.processor, o.processor_reference FROM payouts o
     WHERE o.processor = $2 AND o.processor_reference = ANY($3::text[])
  ) x`;

/**
 * Every item of the anchors, with its status and amount at stake. $1 grace cutoff: a result
 * other than `matched` whose newest fact (a balance transaction's creation, the gateway
 * object's last change) is later than it is left out (reconsidered by the
 * next pass). $2/$3 window [from, to) on occurred_at or nulls, $4 processor, $5 currency.
 *
 * Amounts are signed as their effect on the processor balance (charge +, refund and dispute −)
 * on every side; fees are positive. For a payout: processor_amount = the net of the
 * transactions it paid out (or its own transaction's amount when none is linked), gateway =
 * the payout's amount, ledger = the bank posting.
 */
export const COMPUTE_ITEMS = `
  CREATE TEMP TABLE rc_items ON COMMIT DROP AS
  WITH a AS NOT MATERIALIZED (SELECT kind, processor, anchor FROM rc_anchor),
  refs AS (
    SELECT a.kind, a.processor, a.anchor, p.processor_reference AS reference
      FROM a JOIN payments p ON a.kind = 'charge' AND p.id = a.anchor
     WHERE p.processor_reference IS NOT NULL
    UNION
    SELECT a.kind, a.processor, a.anchor, pf.charge_reference
      FROM a JOIN payment_fees pf ON a.kind = 'charge' AND pf.payment_id = a.anchor
     WHERE pf.charge_reference IS NOT NULL
    UNION
    SELECT a.kind, a.processor, a.anchor, r.processor_reference
      FROM a JOIN refunds r ON a.kind = 'refund' AND r.payment_id = a.anchor
     WHERE r.processor_reference IS NOT NULL
    UNION
    SELECT a.kind, a.processor, a.anchor, d.processor_reference
      FROM a JOIN disputes d ON a.kind = 'dispute' AND d.id = a.anchor
    UNION
    SELECT a.kind, a.processor, a.anchor, substr(a.anchor, 5) FROM a WHERE a.anchor LIKE 'src:%'
    UNION
    SELECT a.kind, a.processor, a.anchor, a.anchor FROM a WHERE a.kind = 'payout'
  ),
  -- per source first, then per item: two hash aggregates (count(DISTINCT) would sort a million rows)
  bt_sources AS (
    SELECT r.kind, r.processor, r.anchor, b.source_reference,
           count(*) AS n, sum(b.amount) AS amount, sum(b.fee) AS fee,
           sum(abs(b.amount)) AS sum_abs, max(abs(b.amount)) AS max_abs,
           min(b.currency) AS currency, max(b.currency) AS currency_max,
           min(b.created_at) AS first_at, max(b.created_at) AS last_at
      FROM refs r JOIN processor_balance_transactions b
        ON b.processor = r.processor AND b.source_reference = r.reference
     WHERE ${BT_KIND('b')} = r.kind
     GROUP BY r.kind, r.processor, r.anchor, b.source_reference
  ),
  bt AS (
    SELECT kind, processor, anchor,
           sum(n)::int AS n, count(*)::int AS n_sources,
           sum(amount)::bigint AS amount, sum(fee)::bigint AS fee,
           sum(sum_abs)::bigint AS sum_abs, max(max_abs)::bigint AS max_abs,
           min(currency) AS currency, max(currency_max) AS currency_max,
           min(first_at) AS first_at, max(last_at) AS last_at,
           min(source_reference) AS source
      FROM bt_sources
     GROUP BY kind, processor, anchor
  ),
  payout_links AS (
    SELECT a.processor, a.anchor, count(*)::int AS n, sum(b.net)::bigint AS net,
           min(b.currency) AS currency, min(b.created_at) AS first_at, max(b.created_at) AS last_at
      FROM a JOIN processor_balance_transactions b
        ON a.kind = 'payout' AND b.processor = a.processor AND b.payout_reference = a.anchor
     WHERE b.type <> 'payout'
     GROUP BY a.processor, a.anchor
  ),
  gw AS (
    SELECT a.kind, a.processor, a.anchor, p.id AS payment_id, NULL::text AS refund_id,
           NULL::text AS dispute_id, NULL::text AS payout_id, p.processor_reference AS reference,
           p.amount_captured::bigint AS amount, p.currency, p.created_at, p.updated_at
      FROM a JOIN payments p ON a.kind = 'charge' AND p.id = a.anchor
     WHERE p.amount_captured > 0
    UNION ALL
    SELECT 'refund', a.processor, a.anchor, a.anchor,
           CASE WHEN count(*) = 1 THEN min(r.id) END, NULL, NULL, min(r.processor_reference),
           -sum(r.amount)::bigint, min(r.currency), min(r.created_at), max(r.updated_at)
      FROM a JOIN refunds r ON a.kind = 'refund' AND r.payment_id = a.anchor
     WHERE r.status = 'SUCCEEDED'
     GROUP BY a.processor, a.anchor
    UNION ALL
    SELECT 'dispute', a.processor, a.anchor, d.payment_id, NULL, d.id, NULL, d.processor_reference,
           CASE WHEN d.status IN ${WITHDRAWN} THEN -d.amount ELSE 0 END, d.currency,
           d.created_at, d.updated_at
      FROM a JOIN disputes d ON a.kind = 'dispute' AND d.id = a.anchor
    UNION ALL
    SELECT 'payout', a.processor, a.anchor, NULL, NULL, NULL, o.id, o.processor_reference,
           o.amount, o.currency, o.created_at, o.updated_at
      FROM a JOIN payouts o
        ON a.kind = 'payout' AND o.processor = a.processor AND o.processor_reference = a.anchor
     WHERE o.status = 'PAID'
  ),
  ledger_payments AS (
    SELECT e.payment_id,
           sum(l.amount) FILTER (WHERE e.kind IN ('sale', 'capture') AND l.direction = 'debit')::bigint AS charge_amount,
           min(l.currency) FILTER (WHERE e.kind IN ('sale', 'capture')) AS charge_currency,
           sum(l.amount) FILTER (WHERE e.kind = 'processor_fee' AND l.direction = 'credit')::bigint AS fee,
           sum(CASE WHEN e.kind = 'refund' AND l.direction = 'credit' THEN -l.amount
                    WHEN e.kind = 'refund_reversal' AND l.direction = 'debit' THEN l.amount END)::bigint AS refund_amount,
           min(l.currency) FILTER (WHERE e.kind IN ('refund', 'refund_reversal')) AS refund_currency
      FROM (SELECT DISTINCT anchor FROM a WHERE kind IN ('charge', 'refund') AND anchor NOT LIKE 'src:%') x
      JOIN journal_entries e ON e.payment_id = x.anchor
      JOIN journal_lines l ON l.entry_id = e.id
      JOIN ledger_accounts acc ON acc.id = l.account_id
     WHERE e.status = 'posted' AND acc.code LIKE 'receivable:%'
       AND e.kind IN ('sale', 'capture', 'processor_fee', 'refund', 'refund_reversal')
     GROUP BY e.payment_id
  ),
  ledger_events AS (
    SELECT a.kind, a.anchor,
           sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE -l.amount END)::bigint AS amount,
           min(l.currency) AS currency
      FROM a
      JOIN payouts o
        ON a.kind = 'payout' AND o.processor = a.processor AND o.processor_reference = a.anchor
      CROSS JOIN (VALUES (':paid'), (':failed')) s(suffix)
      JOIN journal_entries e ON e.source_event_id = o.id || s.suffix
      JOIN journal_lines l ON l.entry_id = e.id
      JOIN ledger_accounts acc ON acc.id = l.account_id AND acc.code LIKE 'bank:%'
     GROUP BY a.kind, a.anchor
    UNION ALL
    SELECT a.kind, a.anchor,
           sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE -l.amount END)::bigint,
           min(l.currency)
      FROM a
      CROSS JOIN (VALUES (':withdrawn'), (':won')) s(suffix)
      JOIN journal_entries e ON a.kind = 'dispute' AND e.source_event_id = a.anchor || s.suffix
      JOIN journal_lines l ON l.entry_id = e.id
      JOIN ledger_accounts acc ON acc.id = l.account_id AND acc.code LIKE 'receivable:%'
     GROUP BY a.kind, a.anchor
  ),
  corrections AS (
    SELECT i.processor, i.item_key,
           sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE -l.amount END)::bigint AS amount
      FROM reconciliation_items i
      JOIN (SELECT DISTINCT processor, kind || ':' || anchor AS item_key FROM a) k
        ON k.processor = i.processor AND k.item_key = i.item_key
      JOIN reconciliation_exceptions x ON x.item_id = i.id
      JOIN journal_entries e ON e.source_event_id = x.id || ':correction'
      JOIN journal_lines l ON l.entry_id = e.id
      JOIN ledger_accounts acc ON acc.id = l.account_id AND acc.code LIKE 'receivable:%'
     GROUP BY i.processor, i.item_key
  ),
  joined AS (
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
           coalesce(c.amount, 0) AS correction,
           coalesce(least(b.first_at, g.created_at), pl.first_at) AS occurred_at,
           greatest(b.last_at, g.updated_at, pl.last_at) AS last_fact_at
      FROM a
      LEFT JOIN bt b ON b.kind = a.kind AND b.processor = a.processor AND b.anchor = a.anchor
      LEFT JOIN payout_links pl ON a.kind = 'payout' AND pl.processor = a.processor AND pl.anchor = a.anchor
      LEFT JOIN gw g ON g.kind = a.kind AND g.processor = a.processor AND g.anchor = a.anchor
      LEFT JOIN ledger_payments lp ON a.kind IN ('charge', 'refund') AND lp.payment_id = a.anchor
      LEFT JOIN ledger_events le ON le.kind = a.kind AND le.anchor = a.anchor
      LEFT JOIN corrections c ON c.processor = a.processor AND c.item_key = a.kind || ':' || a.anchor
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
    END AS status) s
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

/** Counts and amounts at stake per status of the computed items (dry runs report only this). */
export const COUNT_ITEMS = `
  SELECT status, count(*)::bigint AS count, coalesce(sum(amount_at_stake), 0)::bigint AS amount_at_stake
    FROM rc_items GROUP BY status`;

/** The stored columns of an item, as compared to decide whether it changed. */
const ITEM_COLUMNS = `kind, currency, payment_id, refund_id, dispute_id, payout_id, source_reference,
  balance_transaction_count, processor_amount, processor_fee, processor_currency, gateway_amount,
  ledger_amount, ledger_fee, status, amount_at_stake, occurred_at`;
const columnsOf = (alias: string) =>
  ITEM_COLUMNS.split(',')
    .map((c) => `${alias}.${c.trim()}`)
    .join(', ');

/**
 * The computed items that are new or whose result changed (`rc_changed`, with the stored row's
 * id and status when there is one): only those are written, so a re-run over a reconciled
 * period reads but hardly writes. A statement of its own (one hash join over the whole set),
 * not a correlated check inside the INSERT, which could scan the table it is filling.
 */
export const CHANGED_ITEMS = `
  CREATE TEMP TABLE rc_changed ON COMMIT DROP AS
  SELECT n.*, o.id AS old_id, o.status AS old_status
    FROM rc_items n
    LEFT JOIN reconciliation_items o ON o.processor = n.processor AND o.item_key = n.item_key
   WHERE o.id IS NULL
      OR (${columnsOf('o')}) IS DISTINCT FROM (${columnsOf('n')})`;

/**
 * The new items of `rc_changed`: a plain INSERT (the writer holds the reconciliation lock,
 * and `rc_changed` found no stored row for them). $1 run id or null.
 */
export const INSERT_ITEMS = `
  INSERT INTO reconciliation_items (processor, item_key, ${ITEM_COLUMNS}, last_run_id, reconciled_at)
  SELECT processor, item_key, ${ITEM_COLUMNS}, $1::bigint, now()
    FROM rc_changed WHERE old_id IS NULL
   -- in key order: the unique (processor, item_key) index fills leaf after leaf instead of at
   -- random (1M items: 33 s → 15 s)
   ORDER BY processor, item_key`;

/** The changed items of `rc_changed`, by id. $1 run id or null. */
export const UPDATE_ITEMS = `
  UPDATE reconciliation_items i SET (${ITEM_COLUMNS}, last_run_id, reconciled_at) =
         (${columnsOf('c')}, $1::bigint, now())
    FROM rc_changed c
   WHERE c.old_id IS NOT NULL AND i.id = c.old_id`;

/**
 * Keeps exceptions in step with the items just written (`rc_changed`), in one statement: an
 * item not matched has ONE open exception (type = its status, amount at stake kept current)
 * unless an operator closed one of the same type and amount; a matched item's open exception is
 * resolved by 'system', audited. Also marks matched an item left behind under a `src:` key
 * whose source has since become known (its facts now live under the payment's key). Only the
 * rows that are or were not matched are looked at: a new matched item has no exception.
 * $1 run id or null. Returns the counts of what changed.
 */
export const WRITE_EXCEPTIONS = `
  WITH superseded AS (
    UPDATE reconciliation_items s SET status = 'matched', amount_at_stake = 0, reconciled_at = now(),
           last_run_id = $1::bigint
      FROM rc_items n
     WHERE n.payment_id IS NOT NULL AND n.kind IN ('charge', 'refund')
       AND s.processor = n.processor AND s.item_key = n.kind || ':src:' || n.source_reference
       AND s.status <> 'matched'
    RETURNING s.id, s.status, s.amount_at_stake, s.processor, s.currency
  ),
  touched AS (
    SELECT i.id, i.status, i.amount_at_stake, i.processor, i.currency
      FROM rc_changed c
      JOIN reconciliation_items i ON i.processor = c.processor AND i.item_key = c.item_key
     WHERE c.status <> 'matched'
    UNION ALL
    SELECT c.old_id, c.status, c.amount_at_stake, c.processor, c.currency
      FROM rc_changed c
     WHERE c.status = 'matched' AND c.old_id IS NOT NULL
    UNION ALL
    SELECT * FROM superseded
  ),
  opened AS (
    INSERT INTO reconciliation_exceptions AS x
        (id, item_id, type, status, processor, currency, amount_at_stake)
    SELECT reconciliation_new_id('rex'), t.id, t.status, 'open', t.processor, t.currency, t.amount_at_stake
      FROM touched t
     WHERE t.status <> 'matched'
       AND NOT EXISTS (
         SELECT 1 FROM reconciliation_exceptions c
          WHERE c.item_id = t.id AND c.status <> 'open' AND c.resolved_by IS DISTINCT FROM 'system'
            AND c.type = t.status AND c.amount_at_stake = t.amount_at_stake)
    ON CONFLICT (item_id) WHERE status = 'open' DO UPDATE SET
      type = EXCLUDED.type, amount_at_stake = EXCLUDED.amount_at_stake, updated_at = now()
      WHERE (x.type, x.amount_at_stake) IS DISTINCT FROM (EXCLUDED.type, EXCLUDED.amount_at_stake)
    RETURNING x.id, x.type, x.amount_at_stake, (x.xmax = 0) AS inserted
  ),
  resolved AS (
    UPDATE reconciliation_exceptions x SET status = 'resolved', resolved_at = now(),
           resolved_by = 'system', updated_at = now(),
           resolution_reason = 'matched on reconciliation: processor, gateway and ledger agree'
      FROM touched t
     WHERE x.item_id = t.id AND t.status = 'matched' AND x.status = 'open'
    RETURNING x.id, x.type, x.amount_at_stake
  ),
  audited AS (
    INSERT INTO reconciliation_exception_audit (exception_id, action, actor, reason, details)
    SELECT id, CASE WHEN inserted THEN 'opened' ELSE 'updated' END, 'system',
           CASE WHEN inserted THEN 'reconciliation found a ' || type ELSE 'reconciliation updated it' END,
           jsonb_build_object('type', type, 'amountAtStake', amount_at_stake, 'runId', $1::bigint)
      FROM opened
    UNION ALL
    SELECT id, 'auto_resolved', 'system',
           'matched on reconciliation: processor, gateway and ledger agree',
           jsonb_build_object('type', type, 'amountAtStake', amount_at_stake, 'runId', $1::bigint)
      FROM resolved
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM superseded)::int AS superseded,
         (SELECT count(*) FROM opened WHERE inserted)::int AS opened,
         (SELECT count(*) FROM opened WHERE NOT inserted)::int AS updated,
         (SELECT count(*) FROM resolved)::int AS resolved,
         (SELECT count(*) FROM audited)::int AS audited`;
