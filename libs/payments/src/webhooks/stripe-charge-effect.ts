import {
  BalanceTransactionSnapshot,
  balanceTransactionSnapshotSchema,
} from '../../../contracts/src';
import {
  ChargeFact,
  Json,
  WebhookEffect,
  currencyAt,
  ignore,
  integerAt,
  objectAt,
  stringAt,
} from './webhook-effect';

/** Charge events that name the balance transaction (fee and net) of a payment's charge. */
export const STRIPE_CHARGE_EVENTS: readonly string[] = [
  'charge.succeeded',
  'charge.captured',
  'charge.updated',
];

/**
 * The charge's fee and net, from `balance_transaction` when Stripe sent it expanded. Webhooks
 * usually carry only its id (`txn_…`): the fee then stays unknown (null) until an event or the
 * reconciliation pull brings it (see docs/webhooks.md).
 */
export function stripeChargeFact(charge: Json): ChargeFact {
  const transaction = objectAt(charge, 'balance_transaction');
  if (!transaction) {
    return {
      chargeReference: stringAt(charge, 'id'),
      balanceTransaction: stringAt(charge, 'balance_transaction'),
      fee: null,
      net: null,
      currency: null,
    };
  }
  const fee = integerAt(transaction, 'fee');
  const net = typeof transaction.net === 'number' && Number.isSafeInteger(transaction.net);
  const known = fee !== null && net && currencyAt(transaction, 'currency') !== null;
  return {
    chargeReference: stringAt(charge, 'id'),
    balanceTransaction: stringAt(transaction, 'id'),
    fee: known ? fee : null,
    net: known ? (transaction.net as number) : null,
    currency: known ? currencyAt(transaction, 'currency') : null,
    transaction: known ? balanceTransactionOf(transaction, stringAt(charge, 'id')) : null,
  };
}

/**
 * An expanded Stripe balance transaction in the neutral shape of the event contract, or null
 * when any field is missing or inconsistent (the fee is still booked; only the copy is dropped).
 */
export function balanceTransactionOf(
  transaction: Json,
  chargeReference: string | null,
): BalanceTransactionSnapshot | null {
  const created = integerAt(transaction, 'created');
  const availableOn = integerAt(transaction, 'available_on');
  const source = transaction.source;
  const type = stringAt(transaction, 'type');
  const candidate = {
    id: stringAt(transaction, 'id'),
    type,
    reportingCategory: stringAt(transaction, 'reporting_category') ?? type,
    amount: transaction.amount,
    fee: transaction.fee,
    net: transaction.net,
    currency: currencyAt(transaction, 'currency'),
    status: stringAt(transaction, 'status'),
    createdAt: created === null ? null : new Date(created * 1000).toISOString(),
    availableOn: availableOn === null ? null : new Date(availableOn * 1000).toISOString(),
    sourceReference:
      typeof source === 'string' ? source : (stringAt(source, 'id') ?? chargeReference),
  };
  const parsed = balanceTransactionSnapshotSchema.safeParse(candidate);
  return parsed.success ? parsed.data : null;
}

/** `charge.succeeded|captured|updated`: remember the charge of the payment, and its fee if sent. */
export function stripeChargeEffect(charge: Json): WebhookEffect {
  const fact = stripeChargeFact(charge);
  if (!fact.chargeReference) return ignore('charge without an id');
  if (!fact.balanceTransaction && stringAt(charge, 'status') !== 'succeeded') {
    return ignore('charge has not moved money (no balance transaction)');
  }
  return {
    kind: 'charge',
    match: {
      processorReference: stringAt(charge, 'payment_intent'),
      paymentId: stringAt(objectAt(charge, 'metadata'), 'payment_id'),
    },
    charge: fact,
  };
}
