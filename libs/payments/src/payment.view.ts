import { CaptureMethod, PaymentStatus, Priority, RefundStatus } from '../../domain/src';
import { RouteDecision } from './routing/route-decision';

export interface PaymentFailureView {
  readonly code: string;
  readonly declineCode?: string | null;
  readonly message: string;
  readonly retryable: boolean;
}

export interface NextActionView {
  readonly type: string;
  readonly clientSecret?: string | null;
  readonly redirectUrl?: string | null;
}

/** A payment as the API shows it (shared/API.md `Payment`). */
export interface PaymentView {
  readonly id: string;
  readonly clientId: string;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
  readonly amountCaptured: number;
  readonly amountRefunded: number;
  readonly amountAuthorized: number;
  readonly captureMethod: CaptureMethod;
  readonly priority: Priority;
  readonly paymentMethod: string;
  readonly processor: string | null;
  readonly processorReference: string | null;
  readonly failure: PaymentFailureView | null;
  readonly nextAction: NextActionView | null;
  readonly pendingOperation: 'capture' | 'cancel' | null;
  readonly pendingCaptureAmount: number | null;
  readonly processorPin: string | null;
  readonly route: RouteDecision | null;
  readonly country: string | null;
  readonly customerId: string | null;
  readonly description: string | null;
  readonly metadata: Record<string, string> | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface RefundView {
  readonly id: string;
  readonly paymentId: string;
  readonly status: RefundStatus;
  readonly amount: number;
  readonly currency: string;
  readonly reason: string | null;
  readonly processorReference: string | null;
  readonly createdAt: Date;
}

export interface PaymentAttemptView {
  readonly id: string;
  readonly paymentId: string;
  readonly refundId: string | null;
  readonly processor: string;
  readonly operation: string;
  readonly attemptNumber: number;
  readonly idempotencyKey: string;
  readonly outcome: 'pending' | 'succeeded' | 'failed' | 'unknown';
  readonly latencyMs: number | null;
  readonly errorKind: string | null;
  readonly createdAt: Date;
}

export const PAYMENT_COLUMNS = `id, client_id, status, amount, currency, amount_authorized, amount_captured,
  amount_refunded, capture_method, priority, payment_method, processor, processor_reference, failure,
  next_action, pending_operation, pending_capture_amount, processor_pin, route, country, customer_id, description, metadata, created_at, updated_at`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Row = Record<string, any>;

export function toPaymentView(row: Row): PaymentView {
  return {
    id: row.id,
    clientId: row.client_id,
    status: row.status,
    amount: Number(row.amount),
    currency: row.currency,
    amountAuthorized: Number(row.amount_authorized),
    amountCaptured: Number(row.amount_captured),
    amountRefunded: Number(row.amount_refunded),
    captureMethod: row.capture_method,
    priority: row.priority,
    paymentMethod: row.payment_method,
    processor: row.processor,
    processorReference: row.processor_reference,
    failure: row.failure,
    nextAction: row.next_action,
    pendingOperation: row.pending_operation,
    pendingCaptureAmount:
      row.pending_capture_amount === null ? null : Number(row.pending_capture_amount),
    processorPin: row.processor_pin,
    route: row.route,
    country: row.country,
    customerId: row.customer_id,
    description: row.description,
    metadata: row.metadata,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export const REFUND_COLUMNS = `id, payment_id, status, amount, currency, reason, processor_reference, created_at`;

export function toRefundView(row: Row): RefundView {
  return {
    id: row.id,
    paymentId: row.payment_id,
    status: row.status,
    amount: Number(row.amount),
    currency: row.currency,
    reason: row.reason,
    processorReference: row.processor_reference,
    createdAt: new Date(row.created_at),
  };
}

export const ATTEMPT_COLUMNS = `id, payment_id, refund_id, processor, operation, attempt_number, idempotency_key,
  outcome, latency_ms, error_kind, created_at`;

export function toAttemptView(row: Row): PaymentAttemptView {
  return {
    id: row.id,
    paymentId: row.payment_id,
    refundId: row.refund_id,
    processor: row.processor,
    operation: row.operation,
    attemptNumber: row.attempt_number,
    idempotencyKey: row.idempotency_key,
    outcome: row.outcome,
    latencyMs: row.latency_ms,
    errorKind: row.error_kind,
    createdAt: new Date(row.created_at),
  };
}

/** Stored idempotent responses are JSON: dates come back as strings. */
export function revivePaymentView(json: Row): PaymentView {
  return {
    ...(json as PaymentView),
    createdAt: new Date(json.createdAt),
    updatedAt: new Date(json.updatedAt),
  };
}

export function reviveRefundView(json: Row): RefundView {
  return { ...(json as RefundView), createdAt: new Date(json.createdAt) };
}
