import { accountFor } from '../chart-of-accounts';
import { PlannedEntry } from '../posting-rules';
import { ExceptionType } from './exception-contract';

/** The exception types whose difference a correcting entry can book. */
export const CORRECTABLE_TYPES: ReadonlySet<ExceptionType> = new Set([
  'amount_mismatch',
  'fee_mismatch',
  'missing_in_ledger',
  'missing_at_processor',
]);

/** What the rule needs to know about an exception and its item. */
export interface CorrectionSubject {
  readonly exceptionId: string;
  readonly type: ExceptionType;
  readonly kind: string;
  readonly processor: string;
  readonly currency: string;
  readonly paymentId: string | null;
  /** Signed as their effect on the processor balance (charges +, refunds/disputes −). */
  readonly processorAmount: number | null;
  readonly processorFee: number | null;
  readonly ledgerAmount: number | null;
  readonly ledgerFee: number | null;
}

/** The exception cannot be corrected by an entry; the reason is for the operator. */
export class CorrectionRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CorrectionRefused';
  }
}

/** The deterministic source id of an exception's correction: a retry can never book it twice. */
export const correctionSourceId = (exceptionId: string) => `${exceptionId}:correction`;

/**
 * How far the books' processor receivable is from what the processor says, for this item:
 * (processor net) − (ledger net). Positive: the processor holds more for us than the books say.
 */
export function receivableDifference(s: CorrectionSubject): number {
  const processorNet = (s.processorAmount ?? 0) - (s.processorFee ?? 0);
  const ledgerNet = (s.ledgerAmount ?? 0) - (s.ledgerFee ?? 0);
  return processorNet - ledgerNet;
}

/**
 * `reconciliation_correction`: brings the processor receivable in line with the processor by
 * the item's difference on it (for amount and fee mismatches, the amount at stake; for a
 * missing item, its net of fees), the other side in `suspense:<CUR>` until finance classifies
 * it. Receivable understated: Dr receivable / Cr suspense; overstated: Dr suspense / Cr
 * receivable. The matching engine counts this entry, so the item then reads `matched`.
 * Never edits an entry: it is a new, balanced one.
 */
export function postReconciliationCorrection(s: CorrectionSubject, at: string): PlannedEntry {
  if (!CORRECTABLE_TYPES.has(s.type)) {
    throw new CorrectionRefused(
      `a ${s.type} exception has no correcting entry: fix its cause, then resolve it without one`,
    );
  }
  if (s.kind === 'payout') {
    throw new CorrectionRefused(
      'a payout difference is between the bank and the processor: investigate it, then resolve it without a correction',
    );
  }
  const difference = receivableDifference(s);
  if (difference === 0 || !Number.isSafeInteger(difference)) {
    throw new CorrectionRefused(
      'the item shows no difference on the processor receivable: resolve it without a correction',
    );
  }
  const amount = Math.abs(difference);
  const receivable = accountFor('processorReceivable', s.currency, s.processor);
  const suspense = accountFor('suspense', s.currency);
  const [debit, credit] = difference > 0 ? [receivable, suspense] : [suspense, receivable];
  return {
    sourceEventId: correctionSourceId(s.exceptionId),
    kind: 'reconciliation_correction',
    paymentId: s.paymentId,
    status: 'posted',
    occurredAt: at,
    lines: [
      { account: debit, direction: 'debit', amount },
      { account: credit, direction: 'credit', amount },
    ],
  };
}
