import Stripe from 'stripe';
import { AuthorizeRequest, ProcessorError, RefundRequest } from '../../../libs/contracts/src';

const REFUND_REASONS: readonly string[] = ['duplicate', 'fraudulent', 'requested_by_customer'];

/** PaymentIntent creation that confirms at once, cards only (no redirect-based methods). */
export function paymentIntentParams(
  request: AuthorizeRequest,
  returnUrl: string | undefined,
): Stripe.PaymentIntentCreateParams {
  const customer = request.customerId?.startsWith('cus_') ? request.customerId : undefined;
  return {
    amount: request.amount,
    currency: request.currency.toLowerCase(),
    payment_method: request.paymentMethodToken,
    // Cards only: no redirect-based methods, so confirm=true needs no return_url (API
    // 2026-10-28 names this allowed_payment_method_types; older versions payment_method_types).
    allowed_payment_method_types: ['card'],
    confirm: true,
    capture_method: request.captureMethod === 'MANUAL' ? 'manual' : 'automatic',
    metadata: {
      ...request.metadata,
      // Our ids, so the Dashboard, webhooks and reconciliation can find the payment.
      payment_id: request.paymentId,
      ...(request.customerId && !customer ? { customer_id: request.customerId } : {}),
    },
    ...(customer ? { customer } : {}),
    ...(request.description ? { description: request.description } : {}),
    ...(returnUrl ? { return_url: returnUrl } : {}),
  };
}

/** Stripe accepts three refund reasons; any other reason travels in metadata. */
export function refundParams(request: RefundRequest): Stripe.RefundCreateParams {
  const known = request.reason && REFUND_REASONS.includes(request.reason);
  return {
    payment_intent: request.processorReference,
    amount: request.amount,
    ...(known ? { reason: request.reason as Stripe.RefundCreateParams.Reason } : {}),
    metadata: {
      refund_id: request.refundId,
      ...(request.reason && !known ? { reason: request.reason } : {}),
    },
  };
}

export function assertIdempotencyKey(key: string): void {
  // Stripe allows up to 255 characters.
  if (!key || key.length > 255) {
    throw new ProcessorError('invalid_request', 'idempotency key must be 1–255 characters', {
      processorCode: 'invalid_idempotency_key',
    });
  }
}

export function assertAmount(amount: number, verb: string): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new ProcessorError('invalid_request', `${verb} amount must be a positive integer`, {
      processorCode: 'invalid_amount',
    });
  }
}
