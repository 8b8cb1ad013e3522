import {
  BalanceTransactionObject,
  IntentRecord,
  PaymentIntentObject,
  PayoutObject,
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
  /** Newest last; listed newest first like Stripe. */
  readonly payouts: PayoutObject[] = [];
  /** Balance transaction id → the payout that paid it out (its own one included). */
  readonly paidOutBy = new Map<string, string>();

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

  /**
   * An automatic payout sweeping every balance transaction of `currency` not paid out yet
   * (they become `available`): amount = Σ net, plus its own balance transaction (type 'payout',
   * −amount), all of them listed under `?payout=po_…`. Throws when nothing is left to pay out.
   */
  createPayout(options: { currency: string; created?: number }): PayoutObject {
    const currency = options.currency.toLowerCase();
    const swept = this.balanceTransactions.filter(
      (t) => t.currency === currency && t.type !== 'payout' && !this.paidOutBy.has(t.id),
    );
    const amount = swept.reduce((sum, t) => sum + t.net, 0);
    if (swept.length === 0 || amount <= 0) {
      throw new Error(`fake Stripe: no positive ${currency} balance to pay out`);
    }
    const created = options.created ?? nowSeconds();
    const id = stripeId('po');
    const own = this.addBalanceTransaction({
      amount: -amount,
      currency,
      fee: 0,
      source: id,
      type: 'payout',
      description: 'STRIPE PAYOUT',
      created,
      status: 'available',
    });
    const payout: PayoutObject = {
      id,
      object: 'payout',
      amount,
      arrival_date: created + DAY_S,
      automatic: true,
      balance_transaction: own,
      created,
      currency,
      description: 'STRIPE PAYOUT',
      metadata: {},
      method: 'standard',
      status: 'paid',
      type: 'bank_account',
    };
    for (const t of swept) {
      t.status = 'available';
      this.paidOutBy.set(t.id, id);
    }
    this.paidOutBy.set(own, id);
    this.payouts.push(payout);
    return structuredClone(payout);
  }

  private addBalanceTransaction(t: {
    amount: number;
    currency: string;
    fee: number;
    source: string;
    type: 'charge' | 'refund' | 'payout';
    description: string | null;
    created?: number;
    status?: 'available' | 'pending';
  }): string {
    const created = t.created ?? nowSeconds();
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
      status: t.status ?? 'pending',
      type: t.type,
    });
    return id;
  }
}
