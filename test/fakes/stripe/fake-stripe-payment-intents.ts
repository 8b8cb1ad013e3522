import { CardBehaviour, cardBehaviour } from './fake-stripe-cards';
import { FormObject } from './fake-stripe-form';
import { nowSeconds, stripeId } from './fake-stripe-ids';
import { IntentRecord, PaymentIntentObject, PaymentIntentStatus } from './fake-stripe-objects';
import {
  metadataOf,
  oneOf,
  optionalInteger,
  optionalString,
  requiredInteger,
  requiredString,
  stringList,
} from './fake-stripe-params';
import { ApiResponse, apiError, invalidRequest, missing, ok } from './fake-stripe-responses';
import { FakeStripeStore } from './fake-stripe-store';

const CAPTURE_METHODS = ['automatic', 'automatic_async', 'manual'] as const;
const CANCELABLE: readonly PaymentIntentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'requires_capture',
  'processing',
];

/** POST /v1/payment_intents, confirming at once when `confirm=true`. */
export function createPaymentIntent(
  store: FakeStripeStore,
  form: FormObject,
  baseUrl: string,
): ApiResponse {
  const amount = requiredInteger(form, 'amount');
  const currency = requiredString(form, 'currency');
  if (!/^[a-z]{3}$/.test(currency))
    return invalidRequest(`Invalid currency: ${currency}`, 'parameter_invalid_string', 'currency');
  const paymentMethod = optionalString(form, 'payment_method');
  const confirm = oneOf(form, 'confirm', ['true', 'false'], 'false') === 'true';
  const behaviour = paymentMethod ? cardBehaviour(paymentMethod) : undefined;
  if (paymentMethod && !behaviour) {
    return missing('PaymentMethod', paymentMethod, 'payment_method');
  }
  if (confirm && !paymentMethod) {
    return invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method.",
      'payment_intent_unexpected_state',
    );
  }
  const id = stripeId('pi');
  const record: IntentRecord = {
    intent: {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      currency,
      status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
      capture_method: oneOf(form, 'capture_method', CAPTURE_METHODS, 'automatic'),
      confirmation_method: 'automatic',
      client_secret: `${id}_secret_${stripeId('x').slice(2)}`,
      created: nowSeconds(),
      canceled_at: null,
      cancellation_reason: null,
      customer: optionalString(form, 'customer') ?? null,
      description: optionalString(form, 'description') ?? null,
      latest_charge: null,
      last_payment_error: null,
      livemode: false,
      metadata: metadataOf(form),
      next_action: null,
      payment_method: paymentMethod ?? null,
      payment_method_types: stringList(form, 'allowed_payment_method_types') ??
        stringList(form, 'payment_method_types') ?? ['card'],
    },
    authorized: false,
    refunded: 0,
    returnUrl: optionalString(form, 'return_url'),
  };
  store.intents.set(id, record);
  store.emit('payment_intent.created', snapshot(record.intent));
  if (!confirm || !behaviour) return ok(snapshot(record.intent));
  return confirmIntent(store, record, behaviour, baseUrl);
}

function confirmIntent(
  store: FakeStripeStore,
  record: IntentRecord,
  behaviour: CardBehaviour,
  baseUrl: string,
): ApiResponse {
  const { intent } = record;
  if (behaviour.type === 'decline') return declineIntent(store, record, behaviour);
  if (behaviour.type === 'three_ds') {
    intent.status = 'requires_action';
    intent.next_action = nextAction(intent, record.returnUrl, baseUrl);
    store.emit('payment_intent.requires_action', snapshot(intent));
    return ok(snapshot(intent));
  }
  authorizeIntent(store, record);
  return ok(snapshot(intent));
}

/** Money is authorized: captured at once (automatic) or held for a capture (manual). */
export function authorizeIntent(store: FakeStripeStore, record: IntentRecord): void {
  const { intent } = record;
  record.authorized = true;
  intent.next_action = null;
  intent.latest_charge = stripeId('ch');
  if (intent.capture_method === 'manual') {
    intent.status = 'requires_capture';
    intent.amount_capturable = intent.amount;
    store.emit('payment_intent.amount_capturable_updated', snapshot(intent));
    return;
  }
  intent.status = 'succeeded';
  intent.amount_received = intent.amount;
  store.recordCharge(intent, intent.amount);
  store.emit('charge.succeeded', chargeOf(intent));
  store.emit('payment_intent.succeeded', snapshot(intent));
}

function declineIntent(
  store: FakeStripeStore,
  record: IntentRecord,
  decline: Extract<CardBehaviour, { type: 'decline' }>,
): ApiResponse {
  const { intent } = record;
  intent.latest_charge = stripeId('ch');
  intent.status = 'requires_payment_method';
  const error = {
    type: 'card_error' as const,
    code: decline.code,
    decline_code: decline.declineCode,
    message: decline.message,
    charge: intent.latest_charge,
    doc_url: `https://stripe.com/docs/error-codes/${decline.code.replace(/_/g, '-')}`,
    payment_method: { id: intent.payment_method, object: 'payment_method', type: 'card' },
  };
  intent.last_payment_error = error;
  store.emit('payment_intent.payment_failed', snapshot(intent));
  return apiError(402, { ...error, payment_intent: snapshot(intent) });
}

function nextAction(
  intent: PaymentIntentObject,
  returnUrl: string | undefined,
  baseUrl: string,
): Record<string, unknown> {
  const url = `${baseUrl}/3ds/${intent.id}`;
  if (returnUrl)
    return { type: 'redirect_to_url', redirect_to_url: { url, return_url: returnUrl } };
  // Without a return_url Stripe hands the authentication to Stripe.js.
  return {
    type: 'use_stripe_sdk',
    use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url },
  };
}

export function retrievePaymentIntent(store: FakeStripeStore, id: string): ApiResponse {
  const record = store.intents.get(id);
  return record ? ok(snapshot(record.intent)) : missing('payment_intent', id, 'intent');
}

/** POST /v1/payment_intents/:id/capture, partial captures release the rest. */
export function capturePaymentIntent(
  store: FakeStripeStore,
  id: string,
  form: FormObject,
): ApiResponse {
  const record = store.intents.get(id);
  if (!record) return missing('payment_intent', id, 'intent');
  const { intent } = record;
  if (intent.status !== 'requires_capture')
    return unexpectedState(intent, 'captured', 'requires_capture');
  const amount = optionalInteger(form, 'amount_to_capture') ?? intent.amount_capturable;
  if (amount > intent.amount_capturable) {
    return invalidRequest(
      `The amount_to_capture (${amount}) must be less than or equal to the PaymentIntent's amount_capturable (${intent.amount_capturable}).`,
      'amount_too_large',
      'amount_to_capture',
    );
  }
  intent.status = 'succeeded';
  intent.amount_received = amount;
  intent.amount_capturable = 0;
  store.recordCharge(intent, amount);
  store.emit('charge.captured', chargeOf(intent));
  store.emit('payment_intent.succeeded', snapshot(intent));
  return ok(snapshot(intent));
}

/** POST /v1/payment_intents/:id/cancel. */
export function cancelPaymentIntent(
  store: FakeStripeStore,
  id: string,
  form: FormObject,
): ApiResponse {
  const record = store.intents.get(id);
  if (!record) return missing('payment_intent', id, 'intent');
  const { intent } = record;
  if (!CANCELABLE.includes(intent.status)) {
    return unexpectedState(intent, 'canceled', CANCELABLE.join(', '));
  }
  intent.status = 'canceled';
  intent.amount_capturable = 0;
  intent.next_action = null;
  intent.canceled_at = nowSeconds();
  intent.cancellation_reason = optionalString(form, 'cancellation_reason') ?? null;
  store.emit('payment_intent.canceled', snapshot(intent));
  return ok(snapshot(intent));
}

/** Finishes the customer's 3-D Secure step of a requires_action PaymentIntent. */
export function completeThreeDS(
  store: FakeStripeStore,
  id: string,
  outcome: 'succeed' | 'fail',
): PaymentIntentObject {
  const record = store.intents.get(id);
  if (!record || record.intent.status !== 'requires_action') {
    throw new Error(`fake stripe: ${id} is not awaiting 3-D Secure`);
  }
  if (outcome === 'succeed') {
    authorizeIntent(store, record);
    return snapshot(record.intent);
  }
  const { intent } = record;
  intent.status = 'requires_payment_method';
  intent.next_action = null;
  intent.last_payment_error = {
    type: 'invalid_request_error',
    code: 'payment_intent_authentication_failure',
    message:
      'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
  };
  store.emit('payment_intent.payment_failed', snapshot(intent));
  return snapshot(intent);
}

function unexpectedState(intent: PaymentIntentObject, verb: string, allowed: string): ApiResponse {
  return invalidRequest(
    `This PaymentIntent could not be ${verb} because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be ${verb}: ${allowed}.`,
    'payment_intent_unexpected_state',
  );
}

/** A deep copy, so a saved idempotent response never changes afterwards. */
export function snapshot<T>(value: T): T {
  return structuredClone(value);
}

export function chargeOf(intent: PaymentIntentObject): Record<string, unknown> {
  return {
    id: intent.latest_charge,
    object: 'charge',
    amount: intent.amount,
    amount_captured: intent.amount_received,
    captured: intent.amount_received > 0,
    currency: intent.currency,
    metadata: { ...intent.metadata },
    payment_intent: intent.id,
    status: 'succeeded',
  };
}
