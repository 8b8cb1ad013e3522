import { z } from 'zod';
import {
  DISPUTE_STATUSES,
  PAYMENT_STATUSES,
  PAYOUT_STATUSES,
  REFUND_STATUSES,
  isKnownCurrency,
} from '../../domain/src';
import {
  COMMAND_TYPES,
  CommandType,
  DISPUTE_EVENT_TYPES,
  EVENT_TYPES,
  PAYOUT_EVENT_TYPES,
  REFUND_EVENT_TYPES,
} from './subjects';

const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`));
const minorUnits = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const currency = z.string().refine(isKnownCurrency, 'unknown ISO 4217 currency');

/** Commands (`payments.cmd.*`), version 1. The payment row holds the details; commands name it. */
export const paymentCommandSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('authorize'), paymentId: id('pay') }),
  z.object({
    v: z.literal(1),
    type: z.literal('capture'),
    paymentId: id('pay'),
    amount: minorUnits,
  }),
  z.object({ v: z.literal(1), type: z.literal('cancel'), paymentId: id('pay') }),
  z.object({
    v: z.literal(1),
    type: z.literal('refund'),
    paymentId: id('pay'),
    refundId: id('ref'),
  }),
  z.object({ v: z.literal(1), type: z.literal('sync'), paymentId: id('pay') }),
  // Apply a stored, verified processor webhook (the row holds the event; `evt_` is our id).
  // `feeLookup`: false when applying it needs no fee from the processor (absent: unknown).
  z.object({
    v: z.literal(1),
    type: z.literal('webhook'),
    webhookEventId: id('evt'),
    feeLookup: z.boolean().optional(),
  }),
]);
export type PaymentCommand = z.infer<typeof paymentCommandSchema>;
export type PaymentCommandOf<T extends CommandType> = Extract<PaymentCommand, { type: T }>;

const paymentSnapshot = z.object({
  id: id('pay'),
  clientId: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  amount: minorUnits,
  currency,
  amountCaptured: z.number().int().nonnegative(),
  amountRefunded: z.number().int().nonnegative(),
  processor: z.string().nullable(),
  processorReference: z.string().nullable(),
});
export type PaymentSnapshot = z.infer<typeof paymentSnapshot>;

const refundSnapshot = z.object({
  id: id('ref'),
  status: z.enum(REFUND_STATUSES),
  amount: minorUnits,
  currency,
  processorReference: z.string().nullable().optional(),
});

/**
 * The processor's fee of the payment's charge and what is left (net), in the currency of its
 * balance transaction (the settlement currency, which may differ from the payment's).
 */
const feeFields = {
  fee: z.number().int().nonnegative().optional(),
  net: z.number().int().optional(),
  feeCurrency: currency.optional(),
};

const signedMinorUnits = z
  .number()
  .int()
  .min(-Number.MAX_SAFE_INTEGER)
  .max(Number.MAX_SAFE_INTEGER);

/**
 * The processor's balance transaction behind a fact, when the worker saw it whole (e.g. a Stripe
 * charge webhook with `balance_transaction` expanded). Amounts are signed minor units of
 * `currency` (upper case; a charge positive), `fee >= 0`, `net = amount - fee`. The ledger stores
 * it for reconciliation (received_via 'webhook').
 */
export const balanceTransactionSnapshotSchema = z
  .object({
    id: z.string().min(1),
    type: z.string().min(1),
    reportingCategory: z.string().min(1),
    amount: signedMinorUnits,
    fee: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    net: signedMinorUnits,
    currency,
    status: z.string().min(1),
    createdAt: z.string().datetime(),
    availableOn: z.string().datetime().nullable(),
    /** The charge, refund … that caused it (the processor's id of it). */
    sourceReference: z.string().min(1).nullable(),
  })
  .refine((t) => t.net === t.amount - t.fee, {
    message: 'net must equal amount - fee',
    path: ['net'],
  });
export type BalanceTransactionSnapshot = z.infer<typeof balanceTransactionSnapshotSchema>;

/** Events (`payments.evt.*`), version 1: facts the ledger books and subscriptions announce. */
export const paymentEventSchema = z.object({
  v: z.literal(1),
  eventId: id('evt'),
  type: z.enum(EVENT_TYPES),
  occurredAt: z.string().datetime(),
  payment: paymentSnapshot,
  /** Amount this event moved (captured or refunded), when it moved money. */
  amount: z.number().int().nonnegative().optional(),
  refund: refundSnapshot.optional(),
  /** When known: informational on every type; `fee_recorded` is the one to book the fee from. */
  ...feeFields,
  /** Optional (absent from older producers): the balance transaction the fee came from. */
  balanceTransaction: balanceTransactionSnapshotSchema.optional(),
});
export type PaymentEvent = z.infer<typeof paymentEventSchema>;

const envelope = { v: z.literal(1), eventId: id('evt'), occurredAt: z.string().datetime() };

/** `refunds.evt.succeeded|failed`, version 1. */
export const refundEventSchema = z.object({
  ...envelope,
  type: z.enum(REFUND_EVENT_TYPES),
  paymentId: id('pay'),
  processor: z.string().nullable(),
  refund: refundSnapshot,
});
export type RefundEvent = z.infer<typeof refundEventSchema>;

const disputeSnapshot = z.object({
  id: id('dsp'),
  paymentId: id('pay'),
  processor: z.string(),
  processorReference: z.string(),
  status: z.enum(DISPUTE_STATUSES),
  amount: z.number().int().nonnegative(),
  currency,
  reason: z.string().nullable(),
  evidenceDueBy: z.string().datetime().nullable(),
});
export type DisputeSnapshot = z.infer<typeof disputeSnapshot>;

/** `disputes.evt.opened|updated|won|lost|closed`, version 1. */
export const disputeEventSchema = z.object({
  ...envelope,
  type: z.enum(DISPUTE_EVENT_TYPES),
  dispute: disputeSnapshot,
});
export type DisputeEvent = z.infer<typeof disputeEventSchema>;

const payoutSnapshot = z.object({
  id: id('pyo'),
  processor: z.string(),
  processorReference: z.string(),
  status: z.enum(PAYOUT_STATUSES),
  amount: z.number().int().nonnegative(),
  currency,
  arrivalDate: z.string().datetime().nullable(),
  failureCode: z.string().nullable(),
});
export type PayoutSnapshot = z.infer<typeof payoutSnapshot>;

/** `payouts.evt.paid|failed`, version 1. */
export const payoutEventSchema = z.object({
  ...envelope,
  type: z.enum(PAYOUT_EVENT_TYPES),
  payout: payoutSnapshot,
});
export type PayoutEvent = z.infer<typeof payoutEventSchema>;

export { COMMAND_TYPES };

/** Parses a message or explains, in one line, why it is not valid. */
export function parseMessage<T>(
  schema: z.ZodType<T>,
  data: unknown,
): { ok: true; value: T } | { ok: false; reason: string } {
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const reason = result.error.issues
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, reason };
}
