import Stripe from 'stripe';
import {
  NextActionResult,
  ProcessorPaymentResult,
  ProcessorPaymentStatus,
} from '../../../libs/contracts/src';
import { isHardDecline, normaliseDeclineCode } from './stripe-decline';

// The SDK widens the union with `string & {}`; keep only the named statuses.
type Named<T> = T extends string ? (string extends T ? never : T) : never;
export type StripePaymentIntentStatus = Named<Stripe.PaymentIntent.Status>;

// Total on purpose: a status added to the SDK's union fails to compile until it is mapped.
export const STRIPE_STATUS_MAP: Readonly<
  Record<StripePaymentIntentStatus, ProcessorPaymentStatus>
> = {
  // We always confirm, so this means the confirmation failed (see last_payment_error).
  requires_payment_method: 'failed',
  requires_confirmation: 'processing',
  requires_action: 'requires_action',
  processing: 'processing',
  requires_capture: 'authorized',
  canceled: 'canceled',
  succeeded: 'succeeded',
};

/** The neutral status; a status newer than this SDK stays non-final ('processing'). */
export function toProcessorStatus(status: string): ProcessorPaymentStatus {
  return Object.hasOwn(STRIPE_STATUS_MAP, status)
    ? STRIPE_STATUS_MAP[status as StripePaymentIntentStatus]
    : 'processing';
}

const HOLDS_FUNDS: readonly string[] = ['requires_capture', 'succeeded'];

/** The neutral view of a PaymentIntent. */
export function toPaymentResult(intent: Stripe.PaymentIntent): ProcessorPaymentResult {
  const status = toProcessorStatus(intent.status);
  const nextAction = status === 'requires_action' ? nextActionOf(intent) : undefined;
  const failure = status === 'failed' ? failureOf(intent.last_payment_error) : undefined;
  return {
    status,
    processorReference: intent.id,
    amountAuthorized: HOLDS_FUNDS.includes(intent.status) ? intent.amount : 0,
    amountCaptured: intent.amount_received ?? 0,
    ...(nextAction ? { nextAction } : {}),
    ...(failure ? { failure } : {}),
  };
}

function nextActionOf(intent: Stripe.PaymentIntent): NextActionResult {
  const action = intent.next_action;
  const redirectUrl = action?.redirect_to_url?.url ?? undefined;
  return {
    type: action?.type ?? 'unknown',
    ...(redirectUrl ? { redirectUrl } : {}),
    // The front end needs it to run the authentication with Stripe.js.
    ...(intent.client_secret ? { clientSecret: intent.client_secret } : {}),
  };
}

function failureOf(
  error: Stripe.PaymentIntent.LastPaymentError | null,
): ProcessorPaymentResult['failure'] {
  const declineCode = error ? normaliseDeclineCode(error) : undefined;
  return {
    code: error?.code ?? 'payment_failed',
    ...(declineCode ? { declineCode } : {}),
    message: error?.message ?? 'The payment failed.',
    retryable: declineCode ? !isHardDecline(declineCode, error?.advice_code) : false,
  };
}
