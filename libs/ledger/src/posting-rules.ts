import { DisputeEvent, PaymentEvent, PayoutEvent, RefundEvent } from '../../contracts/src';
import { AccountSpec, Side, accountFor } from './chart-of-accounts';

export interface PlannedLine {
  readonly account: AccountSpec;
  readonly direction: Side;
  readonly amount: number;
}

/** An entry a rule wants booked; `sourceEventId` makes booking it idempotent. */
export interface PlannedEntry {
  readonly sourceEventId: string;
  readonly kind: EntryKind;
  /** The payment the entry belongs to (null for payouts, which belong to no payment). */
  readonly paymentId: string | null;
  readonly status: 'posted' | 'pending';
  readonly occurredAt: string;
  readonly lines: readonly PlannedLine[];
}

export type EntryKind =
  | 'sale'
  | 'capture'
  | 'authorization_hold'
  | 'authorization_release'
  | 'refund'
  | 'refund_reversal'
  | 'processor_fee'
  | 'dispute'
  | 'dispute_reversal'
  | 'payout'
  | 'payout_reversal'
  /** An operator's correction of a reconciliation exception (reconciliation/correction-posting.ts). */
  | 'reconciliation_correction';

/** A fact of the FINANCE_EVENTS stream (`refunds.evt.*`, `disputes.evt.*`, `payouts.evt.*`). */
export type FinanceEvent = RefundEvent | DisputeEvent | PayoutEvent;

/** Anything the ledger consumes: payment events and finance events. */
export type LedgerEvent = PaymentEvent | FinanceEvent;

export const isDisputeEvent = (e: LedgerEvent): e is DisputeEvent => 'dispute' in e;
export const isPayoutEvent = (e: LedgerEvent): e is PayoutEvent => 'payout' in e;
export const isRefundEvent = (e: LedgerEvent): e is RefundEvent =>
  'paymentId' in e && !('payment' in e);
export const isPaymentEvent = (e: LedgerEvent): e is PaymentEvent => 'payment' in e;

/** Where a payment's authorization hold stands (ledger_authorization_holds). */
export interface Hold {
  readonly state: 'held' | 'released';
  readonly amount: number;
  readonly currency: string;
  readonly processor: string;
}

export interface Posting {
  readonly entries: readonly PlannedEntry[];
  /** The hold's new state, when the event changed it. */
  readonly hold?: Hold;
}

/** The event is valid JSON and schema but cannot be booked: dead-letter it with this reason. */
export class PostingRejected extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PostingRejected';
  }
}

const NOTHING: Posting = { entries: [] };

function processorOf(event: PaymentEvent): string {
  if (!event.payment.processor) {
    throw new PostingRejected(`${event.type} event of a payment without a processor`);
  }
  return event.payment.processor;
}

function positive(amount: number | undefined, what: string): number {
  if (amount === undefined || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new PostingRejected(`${what} must be a positive amount in minor units`);
  }
  return amount;
}

/** Dr `debit` / Cr `credit`, one amount. */
function pair(debit: AccountSpec, credit: AccountSpec, amount: number): PlannedLine[] {
  return [
    { account: debit, direction: 'debit', amount },
    { account: credit, direction: 'credit', amount },
  ];
}

function entry(
  event: PaymentEvent,
  kind: EntryKind,
  lines: PlannedLine[],
  options: { status?: 'posted' | 'pending'; suffix?: string } = {},
): PlannedEntry {
  return {
    sourceEventId: options.suffix ? `${event.eventId}:${options.suffix}` : event.eventId,
    kind,
    paymentId: event.payment.id,
    status: options.status ?? 'posted',
    occurredAt: event.occurredAt,
    lines,
  };
}

/** Releases a hold (the reverse of its pending lines), if one is held. */
function release(event: PaymentEvent, hold: Hold | null): Posting {
  if (hold?.state === 'released') return NOTHING;
  if (!hold) {
    // The release came first: remember it, so the late hold is never booked.
    const currency = event.payment.currency;
    const processor = event.payment.processor ?? '';
    return { entries: [], hold: { state: 'released', amount: 0, currency, processor } };
  }
  const lines = pair(
    accountFor('customerClearing', hold.currency),
    accountFor('processorReceivable', hold.currency, hold.processor),
    hold.amount,
  );
  return {
    entries: [
      entry(event, 'authorization_release', lines, { status: 'pending', suffix: 'release' }),
    ],
    hold: { ...hold, state: 'released' },
  };
}

/** `succeeded` (automatic capture, a sale): Dr processor receivable / Cr customer clearing. */
export function postSale(event: PaymentEvent): Posting {
  const processor = processorOf(event);
  const amount = positive(event.amount ?? event.payment.amountCaptured, 'succeeded amount');
  const currency = event.payment.currency;
  const lines = pair(
    accountFor('processorReceivable', currency, processor),
    accountFor('customerClearing', currency),
    amount,
  );
  return { entries: [entry(event, 'sale', lines)] };
}

/** `authorized`: a pending Dr receivable / Cr clearing, unless capture/cancel already released it. */
export function postAuthorization(event: PaymentEvent, hold: Hold | null): Posting {
  const processor = processorOf(event);
  if (hold) return NOTHING;
  const amount = positive(event.payment.amount, 'authorized amount');
  const currency = event.payment.currency;
  const lines = pair(
    accountFor('processorReceivable', currency, processor),
    accountFor('customerClearing', currency),
    amount,
  );
  return {
    entries: [entry(event, 'authorization_hold', lines, { status: 'pending' })],
    hold: { state: 'held', amount, currency, processor },
  };
}

/** `captured` (manual capture): posts Dr receivable / Cr clearing and releases the hold. */
export function postCapture(event: PaymentEvent, hold: Hold | null): Posting {
  const processor = processorOf(event);
  const amount = positive(event.amount, 'captured amount');
  const currency = event.payment.currency;
  const lines = pair(
    accountFor('processorReceivable', currency, processor),
    accountFor('customerClearing', currency),
    amount,
  );
  const released = release(event, hold);
  return { entries: [entry(event, 'capture', lines), ...released.entries], hold: released.hold };
}

/** `canceled`: releases the authorization hold, if the payment had one. */
export function postCancel(event: PaymentEvent, hold: Hold | null): Posting {
  return release(event, hold);
}

/** `refunded`: Dr refunds (contra revenue) / Cr processor receivable. */
export function postRefund(event: PaymentEvent): Posting {
  const processor = processorOf(event);
  const amount = positive(event.amount ?? event.refund?.amount, 'refunded amount');
  const currency = event.refund?.currency ?? event.payment.currency;
  const lines = pair(
    accountFor('refunds', currency),
    accountFor('processorReceivable', currency, processor),
    amount,
  );
  return { entries: [entry(event, 'refund', lines)] };
}

/**
 * `refund_failed`: only a refund that had succeeded (the event then carries `amount`) moved
 * money; its reversal is Dr receivable / Cr refunds. A refund that never succeeded books nothing.
 */
export function postRefundReversal(event: PaymentEvent): Posting {
  if (event.amount === undefined || event.amount === 0) return NOTHING;
  const processor = processorOf(event);
  const amount = positive(event.amount, 'reversed refund amount');
  const currency = event.refund?.currency ?? event.payment.currency;
  const lines = pair(
    accountFor('processorReceivable', currency, processor),
    accountFor('refunds', currency),
    amount,
  );
  return { entries: [entry(event, 'refund_reversal', lines)] };
}

/**
 * `fee_recorded`: Dr processing fees / Cr processor receivable, in the fee's (settlement)
 * currency. Other event types may carry `fee` for information only: booking it from them too
 * would count it twice.
 */
export function postFee(event: PaymentEvent): Posting {
  if (event.fee === undefined) throw new PostingRejected('fee_recorded event without a fee');
  if (event.fee === 0) return NOTHING;
  const processor = processorOf(event);
  const currency = event.feeCurrency ?? event.payment.currency;
  const lines = pair(
    accountFor('processingFees', currency, processor),
    accountFor('processorReceivable', currency, processor),
    positive(event.fee, 'fee'),
  );
  return { entries: [entry(event, 'processor_fee', lines)] };
}

/** The posting of any payment event; types that move no money book nothing. */
export function postingFor(event: PaymentEvent, hold: Hold | null): Posting {
  switch (event.type) {
    case 'succeeded':
      return postSale(event);
    case 'authorized':
      return postAuthorization(event, hold);
    case 'captured':
      return postCapture(event, hold);
    case 'canceled':
      return postCancel(event, hold);
    case 'refunded':
      return postRefund(event);
    case 'refund_failed':
      return postRefundReversal(event);
    case 'fee_recorded':
      return postFee(event);
    case 'processing':
    case 'requires_action':
    case 'failed':
      return NOTHING;
  }
}

// ── FINANCE_EVENTS: disputes and payouts ────────────────────────────────────────────────────
//
// Disputes and payouts are booked under DETERMINISTIC source ids derived from the dispute or
// payout id (`<dsp>:withdrawn`, `<dsp>:won`, `<pyo>:paid`, `<pyo>:failed`), not from the
// event id: each money movement is booked once whatever event reports it, whatever the order
// and however often (journal_entries.source_event_id is UNIQUE).

/** Statuses of a dispute whose amount the processor has withdrawn (a chargeback, not an inquiry). */
const WITHDRAWN: ReadonlySet<string> = new Set(['NEEDS_RESPONSE', 'UNDER_REVIEW', 'WON', 'LOST']);

function finance(
  sourceEventId: string,
  kind: EntryKind,
  paymentId: string | null,
  occurredAt: string,
  lines: PlannedLine[],
): PlannedEntry {
  return { sourceEventId, kind, paymentId, status: 'posted', occurredAt, lines };
}

/**
 * The chargeback's withdrawal: Dr disputes / Cr processor receivable, the disputed amount.
 * Booked by the first event showing the dispute as a chargeback (opened, an inquiry's
 * escalation reported by `updated`, or a `won`/`lost` that overtook its `opened`).
 */
function withdrawal(event: DisputeEvent): PlannedEntry[] {
  const d = event.dispute;
  if (!WITHDRAWN.has(d.status) || d.amount === 0) return [];
  const lines = pair(
    accountFor('disputes', d.currency, d.processor),
    accountFor('processorReceivable', d.currency, d.processor),
    positive(d.amount, 'disputed amount'),
  );
  return [finance(`${d.id}:withdrawn`, 'dispute', d.paymentId, event.occurredAt, lines)];
}

/** `disputes.evt.opened`: a chargeback withdraws the amount; an inquiry (`WARNING_*`) nothing. */
export function postDisputeOpened(event: DisputeEvent): Posting {
  return { entries: withdrawal(event) };
}

/** `disputes.evt.updated`: nothing, unless it reports an inquiry escalated to a chargeback. */
export function postDisputeUpdated(event: DisputeEvent): Posting {
  return { entries: withdrawal(event) };
}

/** `disputes.evt.won`: the withdrawal (if not booked yet) and its reversal, Dr receivable / Cr disputes. */
export function postDisputeWon(event: DisputeEvent): Posting {
  const d = event.dispute;
  const withdrawn = withdrawal(event);
  if (withdrawn.length === 0) return NOTHING;
  const lines = pair(
    accountFor('processorReceivable', d.currency, d.processor),
    accountFor('disputes', d.currency, d.processor),
    d.amount,
  );
  return {
    entries: [
      ...withdrawn,
      finance(`${d.id}:won`, 'dispute_reversal', d.paymentId, event.occurredAt, lines),
    ],
  };
}

/**
 * `disputes.evt.lost`: no further move. The amount withdrawn at opening stays in the disputes
 * expense account (the loss); only the withdrawal is booked if `lost` came first.
 */
export function postDisputeLost(event: DisputeEvent): Posting {
  return { entries: withdrawal(event) };
}

/** `disputes.evt.closed`: an inquiry closed, or a dispute prevented: no money moved. */
export function postDisputeClosed(_event: DisputeEvent): Posting {
  return NOTHING;
}

/** `payouts.evt.paid`: money left the processor balance for the bank, Dr bank / Cr receivable. */
export function postPayoutPaid(event: PayoutEvent): Posting {
  const p = event.payout;
  if (p.amount === 0) return NOTHING;
  const lines = pair(
    accountFor('bank', p.currency),
    accountFor('processorReceivable', p.currency, p.processor),
    positive(p.amount, 'payout amount'),
  );
  return { entries: [finance(`${p.id}:paid`, 'payout', null, event.occurredAt, lines)] };
}

/**
 * `payouts.evt.failed`: a payout that had been paid came back, Dr receivable / Cr bank; one
 * that failed before being paid moved nothing. `paidBooked`: `<pyo>:paid` is in the books.
 */
export function postPayoutFailed(event: PayoutEvent, paidBooked: boolean): Posting {
  const p = event.payout;
  if (!paidBooked || p.amount === 0) return NOTHING;
  const lines = pair(
    accountFor('processorReceivable', p.currency, p.processor),
    accountFor('bank', p.currency),
    positive(p.amount, 'payout amount'),
  );
  return {
    entries: [finance(`${p.id}:failed`, 'payout_reversal', null, event.occurredAt, lines)],
  };
}

/**
 * The posting of a finance event. `refunds.evt.*` book nothing: the refund is booked from
 * `payments.evt.refunded|refund_failed`, announced beside it (booking both would count it twice).
 */
export function financePostingFor(event: FinanceEvent, paidPayouts: ReadonlySet<string>): Posting {
  if (isDisputeEvent(event)) {
    switch (event.type) {
      case 'opened':
        return postDisputeOpened(event);
      case 'updated':
        return postDisputeUpdated(event);
      case 'won':
        return postDisputeWon(event);
      case 'lost':
        return postDisputeLost(event);
      case 'closed':
        return postDisputeClosed(event);
    }
  }
  if (isPayoutEvent(event)) {
    return event.type === 'paid'
      ? postPayoutPaid(event)
      : postPayoutFailed(event, paidPayouts.has(event.payout.id));
  }
  return NOTHING;
}
