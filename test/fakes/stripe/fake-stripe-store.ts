import {
  BalanceTransactionObject,
  IntentRecord,
  PaymentIntentObject,
  RefundObject,
} from './fake-stripe-objects';
import { nowSeconds, stripeId } from './fake-stripe-ids';

export type EventSink = (type: string, object: unknown) => void;

const DAY_S = 86_400;

/** In-memory account state: PaymentIntents, refunds and balance transactions. */
export class FakeStripeStore {
  readonly intents = new Map<string, IntentRecord>();
  readonly refunds = new Map<string, RefundObject>();
  /** Newest last; listed newest first like Stripe. */
  readonly balanceTransactions: BalanceTransactionObject[] = [];

  constructor(readonly emit: EventSink) {}

  chargesFor(paymentId: string): number {
    return [...this.intents.values()].filter(
      (r) => r.authorized && r.intent.metadata.payment_id === paymentId,
    ).length;
  }

  /** Balance transaction of a captured charge: fee 2.9 % + 30 minor units, rounded. */
  recordCharge(intent: PaymentIntentObject, amount: number): void {
    const fee = Math.round(amount * 0.029) + 30;
    this.addBalanceTransaction({
      amount,
      currency: intent.currency,
      fee,
      source: intent.latest_charge ?? intent.id,
      type: 'charge',
      description: intent.description,
    });
  }

  recordRefund(refund: RefundObject): string {
    return this.addBalanceTransaction({
      amount: -refund.amount,
      currency: refund.currency,
      fee: 0,
      source: refund.id,
      type: 'refund',
      description: 'REFUND FOR PAYMENT',
    });
  }

  private addBalanceTransaction(t: {
    amount: number;
    currency: string;
    fee: number;
    source: string;
    type: 'charge' | 'refund';
    description: string | null;
  }): string {
    const created = nowSeconds();
    const id = stripeId('txn');
    const feeDetails = t.fee
      ? [
          {
            amount: t.fee,
            currency: t.currency,
            description: 'Stripe processing fees',
            type: 'stripe_fee',
          },
        ]
      : [];
    this.balanceTransactions.push({
      id,
      object: 'balance_transaction',
      amount: t.amount,
      available_on: created + 2 * DAY_S,
      created,
      currency: t.currency,
      description: t.description,
      fee: t.fee,
      fee_details: feeDetails,
      net: t.amount - t.fee,
      reporting_category: t.type,
      source: t.source,
      status: 'pending',
      type: t.type,
    });
    return id;
  }
}
