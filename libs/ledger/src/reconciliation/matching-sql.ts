/**
 * The set-based matching statements (docs/reconciliation-engine.md). One reconciliation pass
 * works on a temporary table of ANCHORS (what identifies an item: a payment for its charge and
 * for its refunds, a dispute, a payout's processor id, or `src:<source>` for a processor balance
 * transaction nothing on our side knows), computes every item of those anchors in a few staged
 * statements (`rc_items`, compute-sql.ts), then writes items and exceptions. Every join is an equi-join on
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

/**
 * Whether a key belongs to shard `index` of `count` (SQL parameter references): the one
 * partition function of a window's shards — anchors are assigned with it, and stages that read
 * by payment must filter with the same one.
 */
export const inShard = (key: string, count: string, index: string) =>
  `(${count}::int = 1 OR (hashtext(${key}) & 2147483647) % ${count}::int = ${index}::int)`;

/**
 * Joins that map each balance transaction `b` to what it belongs to on our side, with its kind
 * as `k.kind`: a charge by the payment's intent or charge id, a refund by the refund's processor
 * reference (in the relation `refunds` given, aliased `r`), a dispute by its processor id.
 */
export const btAnchorJoins = (refunds: string) => `
  CROSS JOIN LATERAL (SELECT ${BT_KIND('b')} AS kind) k
  LEFT JOIN payment_fees pf
    ON k.kind = 'charge' AND pf.processor = b.processor AND pf.charge_reference = b.source_reference
  LEFT JOIN LATERAL (
    SELECT p.id FROM payments p
     WHERE k.kind = 'charge' AND pf.payment_id IS NULL
       AND p.processor = b.processor AND p.processor_reference = b.source_reference
  ) p ON true
  LEFT JOIN ${refunds} r ON k.kind = 'refund' AND r.processor_reference = b.source_reference
  LEFT JOIN disputes d
    ON k.kind = 'dispute' AND d.processor = b.processor AND d.processor_reference = b.source_reference`;

/**
 * The anchor of a balance transaction mapped by `btAnchorJoins` (kind 'other' excluded by the
 * caller): our payment or dispute, a payout's own id, or `src:<source>` when nothing knows it.
 */
export const BT_ANCHOR = `
  coalesce(CASE k.kind
    WHEN 'charge' THEN coalesce(pf.payment_id, p.id)
    WHEN 'refund' THEN r.payment_id
    WHEN 'dispute' THEN d.id
    WHEN 'payout' THEN b.source_reference
  END, 'src:' || b.source_reference)`;

export const CREATE_ANCHORS = `
  CREATE TEMP TABLE rc_anchor (
    id int GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL, processor text NOT NULL, anchor text NOT NULL
  ) ON COMMIT DROP`;

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
    SELECT k.kind, b.processor, ${BT_ANCHOR}
      FROM processor_balance_transactions b
      ${btAnchorJoins('refunds')}
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
