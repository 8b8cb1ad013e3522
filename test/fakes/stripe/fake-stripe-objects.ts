/** The subset of Stripe's API objects the fake keeps, in Stripe's own JSON shape. */
export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface PaymentIntentObject {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  status: PaymentIntentStatus;
  capture_method: 'automatic' | 'automatic_async' | 'manual';
  confirmation_method: 'automatic';
  client_secret: string;
  created: number;
  canceled_at: number | null;
  cancellation_reason: string | null;
  customer: string | null;
  description: string | null;
  latest_charge: string | null;
  last_payment_error: Record<string, unknown> | null;
  livemode: false;
  metadata: Record<string, string>;
  next_action: Record<string, unknown> | null;
  payment_method: string | null;
  payment_method_types: string[];
}

export interface RefundObject {
  id: string;
  object: 'refund';
  amount: number;
  balance_transaction: string;
  charge: string;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: string | null;
  status: 'succeeded';
}

export interface BalanceTransactionObject {
  id: string;
  object: 'balance_transaction';
  amount: number;
  available_on: number;
  created: number;
  currency: string;
  description: string | null;
  fee: number;
  fee_details: { amount: number; currency: string; description: string; type: string }[];
  net: number;
  reporting_category: 'charge' | 'refund' | 'payout';
  source: string;
  status: 'available' | 'pending';
  type: 'charge' | 'refund' | 'payout';
}

export interface PayoutObject {
  id: string;
  object: 'payout';
  /** Positive: what left the Stripe balance for the bank. */
  amount: number;
  arrival_date: number;
  automatic: true;
  /** The payout's own balance transaction (type 'payout', negative amount). */
  balance_transaction: string;
  created: number;
  currency: string;
  description: string;
  metadata: Record<string, string>;
  method: 'standard';
  status: 'paid';
  type: 'bank_account';
}

/** A PaymentIntent plus what the fake tracks beside it. */
export interface IntentRecord {
  readonly intent: PaymentIntentObject;
  /** Money was authorized (and maybe captured) at some point. */
  authorized: boolean;
  refunded: number;
  returnUrl?: string;
}
