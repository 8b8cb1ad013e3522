import { PaymentStatus } from './payment-status';

/**
 * The one transition table for payments (DESIGN.md §4). Every writer goes through
 * `transition`; anything not listed here is refused, which makes stale or duplicate
 * events (redelivered messages, late webhooks) unable to move a payment backwards.
 */
const ALLOWED: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  PENDING: ['PROCESSING', 'CANCELED'],
  PROCESSING: ['REQUIRES_ACTION', 'AUTHORIZED', 'SUCCEEDED', 'FAILED'],
  REQUIRES_ACTION: ['AUTHORIZED', 'SUCCEEDED', 'FAILED', 'CANCELED'],
  AUTHORIZED: ['SUCCEEDED', 'CANCELED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELED: [],
};

export const TERMINAL_STATUSES: readonly PaymentStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED'];

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return ALLOWED[from].includes(to);
}

export type TransitionResult =
  | { readonly kind: 'moved'; readonly from: PaymentStatus; readonly to: PaymentStatus }
  | { readonly kind: 'unchanged'; readonly status: PaymentStatus }
  | { readonly kind: 'refused'; readonly from: PaymentStatus; readonly to: PaymentStatus };

/**
 * Decides a transition. Asking for the status a payment already has is `unchanged` (a
 * duplicate); asking for a status not reachable from the current one is `refused`.
 */
export function transition(from: PaymentStatus, to: PaymentStatus): TransitionResult {
  if (from === to) return { kind: 'unchanged', status: from };
  return canTransition(from, to) ? { kind: 'moved', from, to } : { kind: 'refused', from, to };
}

export function isTerminal(status: PaymentStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
