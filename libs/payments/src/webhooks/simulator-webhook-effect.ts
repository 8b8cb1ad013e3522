import { PaymentStatus } from '../../../domain/src';
import { WebhookEffect, ignore, isObject, objectAt, stringAt } from './webhook-effect';

/** Simulator events we act on (it may emit none; the table stays small and total). */
const SIMULATOR_EVENTS: Readonly<Record<string, PaymentStatus>> = {
  'payment.succeeded': 'SUCCEEDED',
  'payment.failed': 'FAILED',
  'payment.requires_action': 'REQUIRES_ACTION',
  'payment.canceled': 'CANCELED',
};

/**
 * The effect of a verified simulator event. `payload` is the event's `data`, either
 * `{ object: {…} }` (Stripe's shape) or the object itself.
 */
export function simulatorWebhookEffect(type: string, payload: unknown): WebhookEffect {
  if (!Object.hasOwn(SIMULATOR_EVENTS, type)) return ignore(`event type ${type} is not used`);
  const object = objectAt(payload, 'object') ?? (isObject(payload) ? payload : null);
  const processorReference = stringAt(object, 'reference') ?? stringAt(object, 'id');
  const paymentId = stringAt(object, 'payment_id') ?? stringAt(object, 'merchant_ref');
  if (!processorReference && !paymentId) return ignore('event names no payment');
  const status = SIMULATOR_EVENTS[type];
  return {
    kind: 'payment',
    match: { processorReference, paymentId },
    status,
    ...(status === 'FAILED'
      ? {
          failure: {
            code: stringAt(object, 'failure_code') ?? 'payment_failed',
            message: stringAt(object, 'failure_message') ?? 'The payment failed.',
            retryable: false,
          },
        }
      : {}),
    ...(status === 'REQUIRES_ACTION' ? {} : { nextAction: null }),
  };
}
