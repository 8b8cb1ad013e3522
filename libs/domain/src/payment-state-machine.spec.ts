import { PAYMENT_STATUSES, PaymentStatus } from './payment-status';
import { canTransition, isTerminal, transition } from './payment-state-machine';

// The full table from DESIGN.md §4, written out independently of the implementation.
const EXPECTED_ALLOWED: ReadonlyArray<[PaymentStatus, PaymentStatus]> = [
  ['PENDING', 'PROCESSING'],
  ['PENDING', 'CANCELED'],
  ['PROCESSING', 'REQUIRES_ACTION'],
  ['PROCESSING', 'AUTHORIZED'],
  ['PROCESSING', 'SUCCEEDED'],
  ['PROCESSING', 'FAILED'],
  ['REQUIRES_ACTION', 'AUTHORIZED'],
  ['REQUIRES_ACTION', 'SUCCEEDED'],
  ['REQUIRES_ACTION', 'FAILED'],
  ['REQUIRES_ACTION', 'CANCELED'],
  ['AUTHORIZED', 'SUCCEEDED'],
  ['AUTHORIZED', 'CANCELED'],
];
const allowed = new Set(EXPECTED_ALLOWED.map(([a, b]) => `${a}>${b}`));
const pairs = PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.map((to) => [from, to] as const));

describe('payment state machine', () => {
  it.each(pairs.filter(([a, b]) => allowed.has(`${a}>${b}`)))('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(transition(from, to)).toEqual({ kind: 'moved', from, to });
  });

  it.each(pairs.filter(([a, b]) => a !== b && !allowed.has(`${a}>${b}`)))(
    'refuses %s → %s',
    (from, to) => {
      expect(canTransition(from, to)).toBe(false);
      expect(transition(from, to)).toEqual({ kind: 'refused', from, to });
    },
  );

  it.each(PAYMENT_STATUSES.map((s) => [s]))(
    'treats %s → itself as a duplicate, not a move',
    (status) => {
      expect(transition(status, status)).toEqual({ kind: 'unchanged', status });
    },
  );

  it('has exactly the terminal statuses SUCCEEDED, FAILED, CANCELED', () => {
    expect(PAYMENT_STATUSES.filter(isTerminal)).toEqual(['SUCCEEDED', 'FAILED', 'CANCELED']);
    for (const terminal of ['SUCCEEDED', 'FAILED', 'CANCELED'] as const) {
      expect(PAYMENT_STATUSES.filter((to) => canTransition(terminal, to))).toEqual([]);
    }
  });

  it('never moves a payment backwards: no path returns to PENDING or PROCESSING', () => {
    for (const from of PAYMENT_STATUSES) {
      expect(canTransition(from, 'PENDING')).toBe(false);
      if (from !== 'PENDING') expect(canTransition(from, 'PROCESSING')).toBe(false);
    }
  });
});
