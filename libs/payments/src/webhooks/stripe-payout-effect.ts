import { PayoutStatus } from '../../../domain/src';
import {
  Json,
  WebhookEffect,
  currencyAt,
  ignore,
  integerAt,
  secondsAt,
  stringAt,
} from './webhook-effect';

/** Payout events we act on and the status each reports. */
export const STRIPE_PAYOUT_EVENTS: Readonly<Record<string, PayoutStatus>> = {
  'payout.paid': 'PAID',
  'payout.failed': 'FAILED',
};

export function stripePayoutEffect(status: PayoutStatus, payout: Json): WebhookEffect {
  const processorReference = stringAt(payout, 'id');
  if (!processorReference) return ignore('payout without an id');
  const amount = integerAt(payout, 'amount');
  const currency = currencyAt(payout, 'currency');
  if (amount === null || !currency) return ignore('payout without an amount or currency');
  return {
    kind: 'payout',
    processorReference,
    status,
    amount,
    currency,
    arrivalDate: secondsAt(payout, 'arrival_date'),
    failureCode: status === 'FAILED' ? (stringAt(payout, 'failure_code') ?? 'payout_failed') : null,
  };
}
