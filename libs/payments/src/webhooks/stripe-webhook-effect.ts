import { PaymentStatus, RefundStatus } from '../../../domain/src';
import { NextActionView, PaymentFailureView } from '../payment.view';
import {
  Json,
  PaymentMatch,
  RefundEffect,
  WebhookEffect,
  ignore,
  integerAt,
  isObject,
  objectAt,
  stringAt,
} from './webhook-effect';
import { STRIPE_CHARGE_EVENTS, stripeChargeEffect, stripeChargeFact } from './stripe-charge-effect';
import { STRIPE_DISPUTE_EVENTS, stripeDisputeEffect } from './stripe-dispute-effect';
import { STRIPE_PAYOUT_EVENTS, stripePayoutEffect } from './stripe-payout-effect';

/** PaymentIntent events we act on; `null` = a fact with no status change (still processing). */
const PAYMENT_INTENT_EVENTS: Readonly<Record<string, PaymentStatus | null>> = {
  'payment_intent.succeeded': 'SUCCEEDED',
  'payment_intent.payment_failed': 'FAILED',
  'payment_intent.requires_action': 'REQUIRES_ACTION',
  'payment_intent.canceled': 'CANCELED',
  'payment_intent.amount_capturable_updated': 'AUTHORIZED',
  'payment_intent.processing': null,
};

const REFUND_EVENTS: readonly string[] = ['refund.created', 'refund.updated', 'refund.failed'];

/** Stripe's refund statuses (pending, requires_action, succeeded, failed, canceled) in ours. */
const REFUND_STATUS_OF: Readonly<Record<string, RefundStatus>> = {
  pending: 'PENDING',
  requires_action: 'PENDING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  canceled: 'FAILED',
};

// Declines worth retrying with the same card later; anything else is final.
const SOFT_DECLINES: readonly string[] = [
  'insufficient_funds',
  'do_not_honor',
  'try_again_later',
  'processing_error',
  'issuer_not_available',
];

/** The effect of a verified Stripe event (`payload` is the whole event object). */
export function stripeWebhookEffect(type: string, payload: unknown): WebhookEffect {
  const object = objectAt(objectAt(payload, 'data'), 'object');
  if (!object) return ignore('event has no data.object');
  if (Object.hasOwn(PAYMENT_INTENT_EVENTS, type)) {
    return paymentIntentEffect(PAYMENT_INTENT_EVENTS[type], object);
  }
  if (REFUND_EVENTS.includes(type)) {
    const refund = refundEffect(object, type === 'refund.failed');
    return refund
      ? { kind: 'refunds', payment: refundPaymentMatch(object), refunds: [refund] }
      : ignore('refund without an amount');
  }
  if (type === 'charge.refunded') return chargeRefundedEffect(object);
  if (STRIPE_CHARGE_EVENTS.includes(type)) return stripeChargeEffect(object);
  if (STRIPE_DISPUTE_EVENTS.includes(type)) return stripeDisputeEffect(object);
  if (Object.hasOwn(STRIPE_PAYOUT_EVENTS, type)) {
    return stripePayoutEffect(STRIPE_PAYOUT_EVENTS[type], object);
  }
  return ignore(`event type ${type} is not used`);
}

function paymentIntentEffect(status: PaymentStatus | null, intent: Json): WebhookEffect {
  const match: PaymentMatch = {
    processorReference: stringAt(intent, 'id'),
    paymentId: stringAt(objectAt(intent, 'metadata'), 'payment_id'),
  };
  switch (status) {
    case 'SUCCEEDED': {
      const received = integerAt(intent, 'amount_received') ?? 0;
      // latest_charge is an id unless the endpoint expands it; expanded, it may hold the fee.
      const charge = objectAt(intent, 'latest_charge');
      return {
        kind: 'payment',
        match,
        status,
        amountAuthorized: integerAt(intent, 'amount') ?? received,
        amountCaptured: received,
        nextAction: null,
        failure: null,
        ...(charge ? { charge: stripeChargeFact(charge) } : {}),
      };
    }
    case 'AUTHORIZED':
      return {
        kind: 'payment',
        match,
        status,
        amountAuthorized: integerAt(intent, 'amount_capturable') ?? 0,
        nextAction: null,
      };
    case 'FAILED':
      return { kind: 'payment', match, status, failure: failureOf(intent), nextAction: null };
    case 'REQUIRES_ACTION':
      return { kind: 'payment', match, status, nextAction: nextActionOf(intent) };
    case 'CANCELED':
      return { kind: 'payment', match, status, nextAction: null };
    default:
      return { kind: 'payment', match, status: null };
  }
}

function failureOf(intent: Json): PaymentFailureView {
  const error = objectAt(intent, 'last_payment_error');
  const declineCode = stringAt(error, 'decline_code');
  return {
    code: stringAt(error, 'code') ?? 'payment_failed',
    declineCode,
    message: stringAt(error, 'message') ?? 'The payment failed.',
    retryable: declineCode !== null && SOFT_DECLINES.includes(declineCode),
  };
}

function nextActionOf(intent: Json): NextActionView {
  const action = objectAt(intent, 'next_action');
  return {
    type: stringAt(action, 'type') ?? 'unknown',
    redirectUrl: stringAt(objectAt(action, 'redirect_to_url'), 'url'),
    clientSecret: stringAt(intent, 'client_secret'),
  };
}

function refundEffect(refund: Json, failedEvent: boolean): RefundEffect | null {
  const amount = integerAt(refund, 'amount');
  if (amount === null || amount === 0) return null;
  const status = failedEvent
    ? 'FAILED'
    : (REFUND_STATUS_OF[stringAt(refund, 'status') ?? ''] ?? 'PENDING');
  return {
    processorReference: stringAt(refund, 'id'),
    refundId: stringAt(objectAt(refund, 'metadata'), 'refund_id'),
    status,
    amount,
    ...(status === 'FAILED'
      ? {
          failure: {
            code: stringAt(refund, 'failure_reason') ?? 'refund_failed',
            message: 'the processor failed the refund',
            retryable: false,
          },
        }
      : {}),
  };
}

function refundPaymentMatch(refund: Json): PaymentMatch {
  return {
    processorReference: stringAt(refund, 'payment_intent'),
    paymentId: stringAt(objectAt(refund, 'metadata'), 'payment_id'),
  };
}

/**
 * A charge's refunds, when the event lists them (`refunds.data`, API versions before
 * 2022-11-15 or expanded). Without the list the event names no refund: refund.* events do.
 */
function chargeRefundedEffect(charge: Json): WebhookEffect {
  const list = objectAt(charge, 'refunds')?.data;
  if (!Array.isArray(list) || list.length === 0) {
    return ignore('charge.refunded lists no refunds; refund.* events carry them');
  }
  const refunds = list
    .filter(isObject)
    .map((r) => refundEffect(r, false))
    .filter((r): r is RefundEffect => r !== null);
  return {
    kind: 'refunds',
    payment: {
      processorReference: stringAt(charge, 'payment_intent'),
      paymentId: stringAt(objectAt(charge, 'metadata'), 'payment_id'),
    },
    refunds,
  };
}
