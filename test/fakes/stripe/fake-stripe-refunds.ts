import { FormObject } from './fake-stripe-form';
import { nowSeconds, stripeId } from './fake-stripe-ids';
import { RefundObject } from './fake-stripe-objects';
import { metadataOf, oneOf, optionalInteger, requiredString } from './fake-stripe-params';
import { chargeOf, snapshot } from './fake-stripe-payment-intents';
import { ApiResponse, invalidRequest, missing, ok } from './fake-stripe-responses';
import { FakeStripeStore } from './fake-stripe-store';

const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

/** POST /v1/refunds: only on a succeeded PaymentIntent, never beyond what was received. */
export function createRefund(store: FakeStripeStore, form: FormObject): ApiResponse {
  const id = requiredString(form, 'payment_intent');
  const record = store.intents.get(id);
  if (!record) return missing('payment_intent', id, 'payment_intent');
  const { intent } = record;
  if (intent.status !== 'succeeded') {
    return invalidRequest(
      `This PaymentIntent (${id}) does not have a successful charge to refund.`,
      'charge_not_refundable',
      'payment_intent',
    );
  }
  const left = intent.amount_received - record.refunded;
  const amount = optionalInteger(form, 'amount') ?? left;
  if (left === 0) {
    return invalidRequest(
      `Charge ${intent.latest_charge} has already been refunded.`,
      'charge_already_refunded',
    );
  }
  if (amount > left) {
    return invalidRequest(
      `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
      'amount_too_large',
      'amount',
    );
  }
  const reason = optionalReason(form);
  const metadata = metadataOf(form);
  record.refunded += amount;
  const refund: RefundObject = {
    id: stripeId('re'),
    object: 'refund',
    amount,
    balance_transaction: '',
    charge: intent.latest_charge ?? '',
    created: nowSeconds(),
    currency: intent.currency,
    metadata,
    payment_intent: id,
    reason,
    status: 'succeeded',
  };
  refund.balance_transaction = store.recordRefund(refund);
  store.refunds.set(refund.id, refund);
  store.emit('refund.created', snapshot(refund));
  store.emit('charge.refunded', { ...chargeOf(intent), amount_refunded: record.refunded });
  return ok(snapshot(refund));
}

function optionalReason(form: FormObject): string | null {
  const reason = oneOf(form, 'reason', [...REASONS, ''] as const, '');
  return reason === '' ? null : reason;
}

export function retrieveRefund(store: FakeStripeStore, id: string): ApiResponse {
  const refund = store.refunds.get(id);
  return refund ? ok(snapshot(refund)) : missing('refund', id);
}
