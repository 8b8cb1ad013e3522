import { DisputeStatus } from '../../../domain/src';
import {
  Json,
  WebhookEffect,
  currencyAt,
  ignore,
  integerAt,
  objectAt,
  secondsAt,
  stringAt,
} from './webhook-effect';

export const STRIPE_DISPUTE_EVENTS: readonly string[] = [
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
];

/** Stripe's dispute statuses in ours (a new one is ignored with its name, never guessed). */
const DISPUTE_STATUS_OF: Readonly<Record<string, DisputeStatus>> = {
  warning_needs_response: 'WARNING_NEEDS_RESPONSE',
  warning_under_review: 'WARNING_UNDER_REVIEW',
  warning_closed: 'WARNING_CLOSED',
  needs_response: 'NEEDS_RESPONSE',
  under_review: 'UNDER_REVIEW',
  won: 'WON',
  lost: 'LOST',
  prevented: 'PREVENTED',
};

/**
 * `charge.dispute.*`: the dispute object carries its whole current state, so every type maps
 * the same way; the application decides whether the report is newer than what we hold.
 */
export function stripeDisputeEffect(dispute: Json): WebhookEffect {
  const processorReference = stringAt(dispute, 'id');
  if (!processorReference) return ignore('dispute without an id');
  const reported = stringAt(dispute, 'status') ?? '';
  if (!Object.hasOwn(DISPUTE_STATUS_OF, reported)) {
    return ignore(`dispute status "${reported}" is not known to us`);
  }
  const amount = integerAt(dispute, 'amount');
  const currency = currencyAt(dispute, 'currency');
  if (amount === null || !currency) return ignore('dispute without an amount or currency');
  const charge = dispute.charge;
  const chargeReference = typeof charge === 'string' ? charge : stringAt(charge, 'id');
  const intent = dispute.payment_intent;
  return {
    kind: 'dispute',
    processorReference,
    match: {
      processorReference: typeof intent === 'string' ? intent : stringAt(intent, 'id'),
      paymentId: stringAt(objectAt(charge, 'metadata'), 'payment_id'),
    },
    chargeReference,
    status: DISPUTE_STATUS_OF[reported],
    amount,
    currency,
    reason: stringAt(dispute, 'reason'),
    evidenceDueBy: secondsAt(objectAt(dispute, 'evidence_details'), 'due_by'),
  };
}
