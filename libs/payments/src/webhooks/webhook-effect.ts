import { BalanceTransactionSnapshot } from '../../../contracts/src';
import { DisputeStatus, PaymentStatus, PayoutStatus, RefundStatus } from '../../../domain/src';
import { NextActionView, PaymentFailureView } from '../payment.view';

/** How a webhook names our payment: the processor's reference, else our id from its metadata. */
export interface PaymentMatch {
  readonly processorReference: string | null;
  readonly paymentId: string | null;
}

/** A payment fact reported by the processor; `status: null` means no status change. */
export interface PaymentEffect {
  readonly kind: 'payment';
  readonly match: PaymentMatch;
  readonly status: PaymentStatus | null;
  readonly amountAuthorized?: number;
  readonly amountCaptured?: number;
  readonly failure?: PaymentFailureView | null;
  readonly nextAction?: NextActionView | null;
  /** The charge that moved the money, when the event includes it (expanded latest_charge). */
  readonly charge?: ChargeFact;
}

/**
 * A charge of a payment and, when its balance transaction came expanded, the fee and net.
 * `balanceTransaction` alone (an id) leaves the fee unknown: null, filled later.
 */
export interface ChargeFact {
  readonly chargeReference: string | null;
  readonly balanceTransaction: string | null;
  readonly fee: number | null;
  readonly net: number | null;
  /** Upper-case ISO 4217 of the balance transaction. */
  readonly currency: string | null;
  /** The whole balance transaction, when it came expanded and valid (for reconciliation). */
  readonly transaction?: BalanceTransactionSnapshot | null;
}

export interface ChargeEffect {
  readonly kind: 'charge';
  readonly match: PaymentMatch;
  readonly charge: ChargeFact;
}

/** A dispute (chargeback or inquiry) of one of our payments, as the processor now reports it. */
export interface DisputeEffect {
  readonly kind: 'dispute';
  readonly processorReference: string;
  /** The payment: by its PaymentIntent, else by the disputed charge. */
  readonly match: PaymentMatch;
  readonly chargeReference: string | null;
  readonly status: DisputeStatus;
  readonly amount: number;
  readonly currency: string;
  readonly reason: string | null;
  readonly evidenceDueBy: Date | null;
}

/** A payout of the processor balance to the merchant's bank. */
export interface PayoutEffect {
  readonly kind: 'payout';
  readonly processorReference: string;
  readonly status: PayoutStatus;
  readonly amount: number;
  readonly currency: string;
  readonly arrivalDate: Date | null;
  readonly failureCode: string | null;
}

/** A refund fact: our refund is found by the processor's refund id, else our id from metadata. */
export interface RefundEffect {
  readonly processorReference: string | null;
  readonly refundId: string | null;
  readonly status: RefundStatus;
  readonly amount: number;
  readonly failure?: PaymentFailureView;
}

export interface RefundsEffect {
  readonly kind: 'refunds';
  readonly payment: PaymentMatch;
  readonly refunds: readonly RefundEffect[];
}

export interface IgnoreEffect {
  readonly kind: 'ignore';
  readonly reason: string;
}

/** What a processor event means for us, decided by a pure per-processor mapping. */
export type WebhookEffect =
  PaymentEffect | RefundsEffect | ChargeEffect | DisputeEffect | PayoutEffect | IgnoreEffect;

export const ignore = (reason: string): IgnoreEffect => ({ kind: 'ignore', reason });

// Small readers for untyped JSON: processors add fields, and a missing one must not throw.
export type Json = Record<string, unknown>;

export function objectAt(value: unknown, key: string): Json | null {
  const inner = isObject(value) ? value[key] : undefined;
  return isObject(inner) ? inner : null;
}

export function stringAt(value: unknown, key: string): string | null {
  const inner = isObject(value) ? value[key] : undefined;
  return typeof inner === 'string' && inner.length > 0 ? inner : null;
}

export function integerAt(value: unknown, key: string): number | null {
  const inner = isObject(value) ? value[key] : undefined;
  return typeof inner === 'number' && Number.isSafeInteger(inner) && inner >= 0 ? inner : null;
}

/** A Unix time in seconds as a Date, or null. */
export function secondsAt(value: unknown, key: string): Date | null {
  const seconds = integerAt(value, key);
  return seconds === null ? null : new Date(seconds * 1000);
}

/** Stripe's lower-case currency as ISO 4217 upper case, or null. */
export function currencyAt(value: unknown, key: string): string | null {
  return stringAt(value, key)?.toUpperCase() ?? null;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
