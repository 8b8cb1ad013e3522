// Each statement runs alone (no explicit transaction), so each one is atomic by itself. The
// database clock times claims, so processes with skewed clocks still agree on leases.
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

const HELD_BY_OWNER = `response->>'state' = 'pending' AND response->>'owner' = $2`;

/**
 * Claims a key with a pending marker. The unique key makes a concurrent insert of the same key
 * wait for the first and then do nothing; a stale claim for the same request is taken over.
 * $1 key, $2 owner, $3 operation, $4 hash, $5 lease ms. Returns a row only when claimed.
 */
export const CLAIM_REQUEST = `
  INSERT INTO simulator_requests AS r (idempotency_key, operation, request_hash, response)
  VALUES (
    $1, $3, $4,
    jsonb_build_object('state', 'pending', 'owner', $2::text, 'lockedAt', ${NOW_MS})
  )
  ON CONFLICT (idempotency_key) DO UPDATE SET response = EXCLUDED.response
    WHERE r.response->>'state' = 'pending'
      AND r.operation = EXCLUDED.operation
      AND r.request_hash = EXCLUDED.request_hash
      AND (r.response->>'lockedAt')::bigint <= ${NOW_MS} - $5::bigint
  RETURNING idempotency_key`;

export const FIND_REQUEST = `
  SELECT idempotency_key, operation, request_hash, response
  FROM simulator_requests WHERE idempotency_key = $1`;

/** Saves the response while the claim is held. $1 key, $2 owner, $3 response. */
export const COMPLETE_REQUEST = `
  WITH done AS (
    UPDATE simulator_requests SET response = $3::jsonb
    WHERE idempotency_key = $1 AND ${HELD_BY_OWNER}
    RETURNING idempotency_key
  )
  SELECT (SELECT count(*) FROM done)::int AS done`;

/** Saves the response and creates the payment together. $4..$11: the payment's columns. */
export const COMPLETE_WITH_NEW_PAYMENT = `
  WITH done AS (
    UPDATE simulator_requests SET response = $3::jsonb
    WHERE idempotency_key = $1 AND ${HELD_BY_OWNER}
    RETURNING idempotency_key
  ), created AS (
    INSERT INTO simulator_payments
      (reference, merchant_ref, token, status, amount, currency, amount_captured, amount_refunded)
    SELECT $4::text, $5::text, $6::text, $7::text, $8::bigint, $9::text, $10::bigint, $11::bigint
    FROM done
    RETURNING reference
  )
  SELECT (SELECT count(*) FROM created)::int AS done`;

/**
 * Saves the response and moves the payment from the expected state to the next, both or
 * neither. The claim row is locked first so a takeover cannot slip between the two writes.
 * $4 reference, $5..$7 next status/captured/refunded, $8..$10 expected ones.
 */
export const COMPLETE_WITH_PAYMENT_UPDATE = `
  WITH owned AS (
    SELECT idempotency_key FROM simulator_requests
    WHERE idempotency_key = $1 AND ${HELD_BY_OWNER}
    FOR UPDATE
  ), moved AS (
    UPDATE simulator_payments
    SET status = $5::text, amount_captured = $6::bigint, amount_refunded = $7::bigint
    WHERE reference = $4 AND status = $8 AND amount_captured = $9::bigint
      AND amount_refunded = $10::bigint AND EXISTS (SELECT 1 FROM owned)
    RETURNING reference
  ), done AS (
    UPDATE simulator_requests SET response = $3::jsonb
    WHERE idempotency_key = (SELECT idempotency_key FROM owned) AND EXISTS (SELECT 1 FROM moved)
    RETURNING idempotency_key
  )
  SELECT (SELECT count(*) FROM owned)::int AS owned, (SELECT count(*) FROM done)::int AS done`;

/** $1 key, $2 owner. */
export const RELEASE_REQUEST = `
  WITH released AS (
    DELETE FROM simulator_requests WHERE idempotency_key = $1 AND ${HELD_BY_OWNER}
    RETURNING idempotency_key
  )
  SELECT (SELECT count(*) FROM released)::int AS released`;

export const FIND_PAYMENT = `
  SELECT reference, merchant_ref, token, status, amount, currency, amount_captured, amount_refunded
  FROM simulator_payments WHERE reference = $1`;

export const COUNT_CHARGES = `
  SELECT count(*)::int AS count FROM simulator_payments WHERE merchant_ref = $1`;

// The saved answer of a completed request, as jsonb paths.
const RESULT = `r.response #>> '{response,result`;

/**
 * The balance report, read back from what the simulator saved: a payment's charge when a call
 * (automatic authorize or capture) answered `succeeded` (the payment row holds what was captured),
 * a refund when its call answered `succeeded`. Times are the request's, to the millisecond, so a
 * JS Date cursor pages without skipping or repeating. $1 from, $2 to (inclusive), $3/$4 cursor
 * (created_at, id) or null, $5 limit.
 */
export const LIST_MOVEMENTS = `
  SELECT id, type, source_reference, amount, currency, created_at
  FROM (
    SELECT 'simtxn_' || p.reference AS id, 'charge' AS type, p.reference AS source_reference,
           p.amount_captured AS amount, p.currency,
           date_trunc('milliseconds', r.created_at) AS created_at
    FROM simulator_requests r
    JOIN simulator_payments p ON p.reference = ${RESULT},processorReference}'
    WHERE r.operation IN ('authorize', 'capture') AND r.response->>'state' = 'done'
      AND r.response #>> '{response,type}' = 'payment' AND ${RESULT},status}' = 'succeeded'
      AND p.amount_captured > 0
    UNION ALL
    SELECT 'simtxn_' || (${RESULT},processorReference}'), 'refund', ${RESULT},processorReference}',
           -((${RESULT},amount}')::bigint), p.currency,
           date_trunc('milliseconds', r.created_at)
    FROM simulator_requests r
    JOIN simulator_payments p ON p.reference = r.response #>> '{response,paymentReference}'
    WHERE r.operation = 'refund' AND r.response->>'state' = 'done'
      AND r.response #>> '{response,type}' = 'refund' AND ${RESULT},status}' = 'succeeded'
  ) m
  WHERE m.created_at >= $1 AND m.created_at <= $2
    AND ($3::timestamptz IS NULL OR (m.created_at, m.id) > ($3::timestamptz, $4::text))
  ORDER BY m.created_at, m.id
  LIMIT $5`;

/**
 * The statements of every simulated charge (claim, complete, read back): key lookups whose plan
 * never depends on the parameters. The apps register them for preparing (libs/persistence).
 */
export const SIMULATOR_HOT_STATEMENTS: readonly string[] = [
  CLAIM_REQUEST,
  FIND_REQUEST,
  COMPLETE_REQUEST,
  COMPLETE_WITH_NEW_PAYMENT,
  COMPLETE_WITH_PAYMENT_UPDATE,
  RELEASE_REQUEST,
  FIND_PAYMENT,
];
