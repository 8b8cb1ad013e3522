import { EntityManager } from 'typeorm';
import { PaymentStatus, newId, transition } from '../../../domain/src';
import {
  PAYMENT_COLUMNS,
  PaymentView,
  REFUND_COLUMNS,
  RefundView,
  toPaymentView,
  toRefundView,
} from '../payment.view';
import { AttemptOutcome, AttemptRecord, ProcessorOperation } from './attempt-policy';

/** Row-level reads and writes the worker does inside its transactions. */
export async function lockPayment(
  tx: EntityManager,
  paymentId: string,
): Promise<PaymentView | null> {
  const [row] = await tx.query(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1 FOR UPDATE`, [
    paymentId,
  ]);
  return row ? toPaymentView(row) : null;
}

export async function lockRefund(tx: EntityManager, refundId: string): Promise<RefundView | null> {
  const [row] = await tx.query(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE id = $1 FOR UPDATE`, [
    refundId,
  ]);
  return row ? toRefundView(row) : null;
}

export async function latestAttempt(
  tx: EntityManager,
  paymentId: string,
  operation: ProcessorOperation,
  refundId: string | null,
): Promise<AttemptRecord | undefined> {
  const [row] = await tx.query(
    `SELECT id, processor, attempt_number, idempotency_key, outcome, error_kind FROM payment_attempts
     WHERE payment_id = $1 AND operation = $2 AND refund_id IS NOT DISTINCT FROM $3
     ORDER BY attempt_number DESC LIMIT 1`,
    [paymentId, operation, refundId],
  );
  return row
    ? {
        id: row.id,
        processor: row.processor,
        attemptNumber: row.attempt_number,
        idempotencyKey: row.idempotency_key,
        outcome: row.outcome,
        errorKind: row.error_kind,
      }
    : undefined;
}

export async function insertAttempt(
  tx: EntityManager,
  a: {
    paymentId: string;
    refundId: string | null;
    processor: string;
    operation: ProcessorOperation;
    attemptNumber: number;
    idempotencyKey: string;
  },
): Promise<AttemptRecord> {
  const id = newId('att');
  await tx.query(
    `INSERT INTO payment_attempts (id, payment_id, refund_id, processor, operation, attempt_number, idempotency_key, outcome)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')`,
    [id, a.paymentId, a.refundId, a.processor, a.operation, a.attemptNumber, a.idempotencyKey],
  );
  return {
    id,
    processor: a.processor,
    attemptNumber: a.attemptNumber,
    idempotencyKey: a.idempotencyKey,
    outcome: 'pending',
    errorKind: null,
  };
}

export async function completeAttempt(
  tx: EntityManager,
  attemptId: string,
  result: { outcome: AttemptOutcome; latencyMs: number; errorKind?: string; errorMessage?: string },
): Promise<void> {
  await tx.query(
    `UPDATE payment_attempts SET outcome = $2, latency_ms = $3, error_kind = $4, error_message = $5,
       completed_at = CASE WHEN $2 IN ('succeeded', 'failed') THEN now() END
     WHERE id = $1`,
    [
      attemptId,
      result.outcome,
      result.latencyMs,
      result.errorKind ?? null,
      result.errorMessage?.slice(0, 500) ?? null,
    ],
  );
}

export interface PaymentChanges {
  readonly status?: PaymentStatus;
  readonly processor?: string;
  readonly processorReference?: string | null;
  readonly amountAuthorized?: number;
  readonly amountCaptured?: number;
  readonly amountRefundedDelta?: number;
  readonly failure?: unknown;
  readonly nextAction?: unknown;
  readonly clearPendingOperation?: boolean;
}

// $1 is the payment id; $2..$12 come from paymentUpdateParams.
const PAYMENT_UPDATE = `UPDATE payments SET
       status = COALESCE($2, status),
       processor = COALESCE($3, processor),
       processor_reference = COALESCE($4, processor_reference),
       amount_authorized = COALESCE($5, amount_authorized),
       amount_captured = COALESCE($6, amount_captured),
       amount_refunded = amount_refunded + $7,
       failure = CASE WHEN $8::boolean THEN $9::jsonb ELSE failure END,
       next_action = CASE WHEN $10::boolean THEN $11::jsonb ELSE next_action END,
       pending_operation = CASE WHEN $12::boolean THEN NULL ELSE pending_operation END,
       pending_capture_amount = CASE WHEN $12::boolean THEN NULL ELSE pending_capture_amount END,
       updated_at = now()`;

function paymentUpdateParams(changes: PaymentChanges): unknown[] {
  return [
    changes.status ?? null,
    changes.processor ?? null,
    changes.processorReference ?? null,
    changes.amountAuthorized ?? null,
    changes.amountCaptured ?? null,
    changes.amountRefundedDelta ?? 0,
    changes.failure !== undefined,
    changes.failure === undefined ? null : JSON.stringify(changes.failure),
    changes.nextAction !== undefined,
    changes.nextAction === undefined ? null : JSON.stringify(changes.nextAction),
    changes.clearPendingOperation ?? false,
  ];
}

/**
 * Successful processor answers for a batch of payments, in ONE statement (parallel arrays, one
 * element per answer; `paymentUpdateParams` per row, the statuses it may move from as a
 * comma-separated list, the attempt, the outbox event or nulls): each payment moves only from a
 * status the state machine allows, and only then is its attempt completed and its event
 * written. Joined back on the input row (its ordinality), so a payment twice in one batch (a
 * redelivered command re-sending the same attempt) moves once and writes one event.
 * `p.status || ''`: see START_FIRST_ATTEMPTS_SQL.
 * Planned at each execution, never prepared (persistence/src/prepared-statements.ts).
 */
const RECORD_SUCCESSES_SQL = `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                          $6::bigint[], $7::bigint[], $8::boolean[], $9::text[], $10::boolean[],
                          $11::text[], $12::boolean[], $13::text[], $14::int[], $15::text[],
                          $16::text[], $17::text[], $18::text[]) WITH ORDINALITY
       AS t(i_payment_id, i_status, i_processor, i_processor_reference, i_amount_authorized,
            i_amount_captured, i_refunded_delta, i_failure_set, i_failure, i_next_action_set,
            i_next_action, i_clear_pending, i_allowed_from, i_latency_ms, i_attempt_id,
            i_outbox_id, i_subject, i_payload, i_n)
   ), moved AS (
     UPDATE payments p SET
       status = COALESCE(i.i_status, p.status),
       processor = COALESCE(i.i_processor, p.processor),
       processor_reference = COALESCE(i.i_processor_reference, p.processor_reference),
       amount_authorized = COALESCE(i.i_amount_authorized, p.amount_authorized),
       amount_captured = COALESCE(i.i_amount_captured, p.amount_captured),
       amount_refunded = p.amount_refunded + i.i_refunded_delta,
       failure = CASE WHEN i.i_failure_set THEN i.i_failure::jsonb ELSE p.failure END,
       next_action = CASE WHEN i.i_next_action_set THEN i.i_next_action::jsonb ELSE p.next_action END,
       pending_operation = CASE WHEN i.i_clear_pending THEN NULL ELSE p.pending_operation END,
       pending_capture_amount = CASE WHEN i.i_clear_pending THEN NULL ELSE p.pending_capture_amount END,
       updated_at = now()
       FROM input i
     WHERE p.id = ANY($1) AND p.id = i.i_payment_id
       AND p.status || '' = ANY(string_to_array(i.i_allowed_from, ','))
     RETURNING ${PAYMENT_COLUMNS}, i.i_n
   ), attempt AS (
     UPDATE payment_attempts a SET outcome = 'succeeded', latency_ms = i.i_latency_ms, completed_at = now()
       FROM moved m JOIN input i ON i.i_n = m.i_n
     WHERE a.id = ANY($15) AND a.id = i.i_attempt_id
   ), event AS (
     INSERT INTO outbox (id, subject, payload)
     SELECT i.i_outbox_id, i.i_subject, i.i_payload::jsonb
       FROM moved m JOIN input i ON i.i_n = m.i_n
      WHERE i.i_outbox_id IS NOT NULL
   )
   SELECT * FROM moved`;

/**
 * The first step of authorizes in ONE statement (for a batch of payments, $1 their ids, $3 the
 * attempts' ids, $4 their processor idempotency keys): PENDING → PROCESSING, the processor chosen
 * (the first of the route's candidates in $2, the processors available now; else the first
 * candidate; a payment without a route keeps its processor: as `chooseProcessor` for a first
 * attempt) and attempt 1 inserted with it, unless there is nothing to try (no processor, or a
 * route without candidates: `routeOf` is then empty). One update of the payment row, not two.
 * Planned at each execution, never prepared (persistence/src/prepared-statements.ts).
 */
const START_FIRST_ATTEMPTS_SQL = `WITH input AS (
     SELECT * FROM unnest($1::text[], $3::text[], $4::text[]) AS t(payment_id, attempt_id, attempt_key)
   ), moved AS (
     UPDATE payments p SET status = 'PROCESSING', updated_at = now(),
       processor = CASE WHEN p.route ? 'candidates' THEN coalesce(
           (SELECT c->>'processor' FROM jsonb_array_elements(p.route->'candidates') WITH ORDINALITY AS e(c, n)
             WHERE c->>'processor' = ANY($2::text[]) ORDER BY n LIMIT 1),
           p.route->'candidates'->0->>'processor', p.processor)
         ELSE p.processor END
       FROM input i
     -- status || '' keeps the status index out of the plan: planned with statistics from a
     -- moment with no PENDING payment, the statement scanned that index for PENDING and filtered
     -- by id, i.e. read the whole backlog per batch (121 buffers per payment, pg_stat_statements)
     WHERE p.id = ANY($1) AND p.id = i.payment_id AND p.status || '' = 'PENDING'
     RETURNING ${PAYMENT_COLUMNS}, i.attempt_id, i.attempt_key
   ), attempt AS (
     INSERT INTO payment_attempts (id, payment_id, refund_id, processor, operation, attempt_number, idempotency_key, outcome)
     SELECT attempt_id, id, NULL, processor, 'authorize', 1, attempt_key, 'pending' FROM moved
      WHERE processor IS NOT NULL AND coalesce(jsonb_array_length(route->'candidates'), 1) > 0
   )
   SELECT * FROM moved`;

/** One successful processor answer to record (RECORD_SUCCESSES_SQL). */
export interface SuccessRecord {
  readonly paymentId: string;
  readonly attemptId: string;
  readonly latencyMs: number;
  readonly changes: PaymentChanges;
  readonly allowedFrom: readonly PaymentStatus[];
  readonly event: { id: string; subject: string; payload: unknown } | null;
}

/**
 * The hot path of successful processor answers, for a batch, in ONE statement. Answers per
 * record, in order, the payment moved, or null when the payment was not in a status it may move
 * from (the caller then takes the general, transactional path, which explains the refusal).
 */
export async function recordSuccessesAtomically(
  sql: Pick<EntityManager, 'query'>,
  records: readonly SuccessRecord[],
): Promise<(PaymentView | null)[]> {
  const updates = records.map((r) => paymentUpdateParams(r.changes));
  const column = (index: number) => updates.map((u) => u[index]);
  const rows = (await sql.query(RECORD_SUCCESSES_SQL, [
    records.map((r) => r.paymentId),
    ...Array.from({ length: 11 }, (_, index) => column(index)),
    records.map((r) => r.allowedFrom.join(',')),
    records.map((r) => r.latencyMs),
    records.map((r) => r.attemptId),
    records.map((r) => r.event?.id ?? null),
    records.map((r) => r.event?.subject ?? null),
    records.map((r) => (r.event ? JSON.stringify(r.event.payload) : null)),
  ])) as Record<string, unknown>[];
  const moved = new Map(rows.map((row) => [Number(row.i_n), toPaymentView(row)]));
  return records.map((_, index) => moved.get(index + 1) ?? null);
}

/** The first step of one authorize: its payment and the key its attempt 1 will carry. */
export interface FirstAttemptRequest {
  readonly paymentId: string;
  readonly idempotencyKey: string;
}

/**
 * PENDING → PROCESSING with attempt 1 for each payment of a batch (START_FIRST_ATTEMPTS_SQL).
 * Answers, per request in order, the payment moved and its attempt's id, or null when the
 * payment was not PENDING (a redelivery, a cancel: the caller takes the general path).
 */
export async function startFirstAttempts(
  sql: Pick<EntityManager, 'query'>,
  available: readonly string[],
  requests: readonly FirstAttemptRequest[],
): Promise<({ payment: PaymentView; attemptId: string } | null)[]> {
  const attemptIds = requests.map(() => newId('att'));
  const rows = (await sql.query(START_FIRST_ATTEMPTS_SQL, [
    requests.map((r) => r.paymentId),
    available,
    attemptIds,
    requests.map((r) => r.idempotencyKey),
  ])) as Record<string, unknown>[];
  const moved = new Map(rows.map((row) => [row.attempt_id as string, toPaymentView(row)]));
  return attemptIds.map((attemptId) => {
    const payment = moved.get(attemptId);
    return payment ? { payment, attemptId } : null;
  });
}

/**
 * Applies changes through the state machine: a status the table does not allow from the
 * current one is refused (the payment is left as it is and null returned).
 */
export async function updatePayment(
  tx: EntityManager,
  current: PaymentView,
  changes: PaymentChanges,
): Promise<PaymentView | null> {
  if (changes.status) {
    const decision = transition(current.status, changes.status);
    if (decision.kind === 'refused') return null;
  }
  const [rows] = await tx.query(`${PAYMENT_UPDATE} WHERE id = $1 RETURNING ${PAYMENT_COLUMNS}`, [
    current.id,
    ...paymentUpdateParams(changes),
  ]);
  return toPaymentView(rows[0]);
}

export async function updateRefund(
  tx: EntityManager,
  refundId: string,
  changes: {
    status: 'SUCCEEDED' | 'FAILED' | 'PENDING';
    processorReference?: string;
    failure?: unknown;
  },
): Promise<RefundView> {
  const [rows] = await tx.query(
    `UPDATE refunds SET status = $2, processor_reference = COALESCE($3, processor_reference),
       failure = COALESCE($4::jsonb, failure), updated_at = now()
     WHERE id = $1 RETURNING ${REFUND_COLUMNS}`,
    [
      refundId,
      changes.status,
      changes.processorReference ?? null,
      changes.failure ? JSON.stringify(changes.failure) : null,
    ],
  );
  return toRefundView(rows[0]);
}
