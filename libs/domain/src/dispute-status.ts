/**
 * Dispute and payout statuses, and the one rule each follows: they only move forward.
 * `WARNING_*` are inquiries (no money withdrawn yet); an inquiry may escalate to a chargeback.
 */
export const DISPUTE_STATUSES = [
  'WARNING_NEEDS_RESPONSE',
  'WARNING_UNDER_REVIEW',
  'WARNING_CLOSED',
  'NEEDS_RESPONSE',
  'UNDER_REVIEW',
  'WON',
  'LOST',
  'PREVENTED',
] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

/** Closed disputes never reopen; WON and LOST are final. */
export const FINAL_DISPUTE_STATUSES: readonly DisputeStatus[] = [
  'WARNING_CLOSED',
  'WON',
  'LOST',
  'PREVENTED',
];

const DISPUTE_RANK: Readonly<Record<DisputeStatus, number>> = {
  WARNING_NEEDS_RESPONSE: 0,
  WARNING_UNDER_REVIEW: 1,
  NEEDS_RESPONSE: 2,
  UNDER_REVIEW: 3,
  WARNING_CLOSED: 4,
  WON: 4,
  LOST: 4,
  PREVENTED: 4,
};

export const isFinalDispute = (status: DisputeStatus): boolean =>
  FINAL_DISPUTE_STATUSES.includes(status);

/**
 * What a reported dispute status does to ours. `advance`: a later stage; `refresh`: the same
 * stage reported by a newer event (its other fields, e.g. the evidence deadline, win);
 * `stale`: an older or duplicate report, or anything after the dispute closed.
 */
export function disputeChange(
  current: { status: DisputeStatus; lastEventAt: Date },
  reported: { status: DisputeStatus; eventAt: Date },
): 'advance' | 'refresh' | 'stale' {
  if (isFinalDispute(current.status)) return 'stale';
  const from = DISPUTE_RANK[current.status];
  const to = DISPUTE_RANK[reported.status];
  if (to > from) return 'advance';
  if (reported.status === current.status && reported.eventAt > current.lastEventAt)
    return 'refresh';
  return 'stale';
}

export const PAYOUT_STATUSES = ['PENDING', 'PAID', 'FAILED'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/** PENDING → PAID | FAILED; PAID → FAILED (the bank returned it); FAILED is final. */
export function payoutChange(
  from: PayoutStatus,
  to: PayoutStatus,
): 'moved' | 'unchanged' | 'refused' {
  if (from === to) return 'unchanged';
  if (from === 'PENDING') return 'moved';
  return from === 'PAID' && to === 'FAILED' ? 'moved' : 'refused';
}
