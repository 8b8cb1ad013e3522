import { ProcessorError } from '../../../contracts/src';
import {
  AttemptRecord,
  chooseProcessor,
  failureFrom,
  nextAttemptStep,
  processorIdempotencyKey,
  retryDelayMs,
} from './attempt-policy';

const attempt = (over: Partial<AttemptRecord>): AttemptRecord => ({
  id: 'att_1',
  processor: 'stripe',
  attemptNumber: 1,
  idempotencyKey: 'pay_x:authorize:1',
  outcome: 'pending',
  errorKind: null,
  ...over,
});

describe('nextAttemptStep', () => {
  it('starts with attempt 1', () => {
    expect(nextAttemptStep(undefined, 3)).toEqual({ kind: 'new', attemptNumber: 1 });
  });

  it.each(['pending', 'unknown'] as const)(
    're-sends a %s attempt with the same key (it may have charged)',
    (outcome) => {
      const latest = attempt({ outcome, attemptNumber: 2 });
      expect(nextAttemptStep(latest, 3)).toEqual({ kind: 'resend', attempt: latest });
    },
  );

  it.each(['unavailable', 'rate_limited'] as const)(
    'retries a %s failure under a new attempt number',
    (kind) => {
      expect(
        nextAttemptStep(attempt({ outcome: 'failed', errorKind: kind, attemptNumber: 2 }), 3),
      ).toEqual({
        kind: 'new',
        attemptNumber: 3,
      });
    },
  );

  it('gives up once the attempts are used', () => {
    expect(
      nextAttemptStep(
        attempt({ outcome: 'failed', errorKind: 'unavailable', attemptNumber: 3 }),
        3,
      ),
    ).toEqual({
      kind: 'give_up',
      lastErrorKind: 'unavailable',
    });
  });

  it.each(['declined', 'invalid_request', 'authentication', 'not_supported'] as const)(
    'never retries a %s failure',
    (kind) => {
      expect(nextAttemptStep(attempt({ outcome: 'failed', errorKind: kind }), 3)).toEqual({
        kind: 'done',
      });
    },
  );

  it('is done after a success', () => {
    expect(nextAttemptStep(attempt({ outcome: 'succeeded' }), 3)).toEqual({ kind: 'done' });
  });
});

describe('processor idempotency keys and delays', () => {
  it('derives the key from payment, operation and attempt only', () => {
    expect(processorIdempotencyKey('pay_a', 'authorize', 1)).toBe('pay_a:authorize:1');
    expect(processorIdempotencyKey('pay_a', 'authorize', 1)).toBe(
      processorIdempotencyKey('pay_a', 'authorize', 1),
    );
    expect(processorIdempotencyKey('ref_b', 'refund', 2)).toBe('ref_b:refund:2');
  });

  it('caps backoff and honours Retry-After', () => {
    for (let n = 1; n < 20; n++) expect(retryDelayMs(n)).toBeLessThanOrEqual(10_000);
    expect(retryDelayMs(1, 7000)).toBeGreaterThanOrEqual(7000);
  });
});

describe('failureFrom', () => {
  it('lets the client retry a soft decline but not a hard one', () => {
    const soft = failureFrom(
      new ProcessorError('declined', 'x', { declineCode: 'insufficient_funds' }),
    );
    expect(soft).toEqual({
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      message: 'The card was declined',
      retryable: true,
    });
    const hard = failureFrom(
      new ProcessorError('declined', 'x', { declineCode: 'stolen_card', hardDecline: true }),
    );
    expect(hard.retryable).toBe(false);
  });

  it('maps an exhausted outage to processor_unavailable, retryable', () => {
    expect(failureFrom(new ProcessorError('unavailable', 'down'))).toMatchObject({
      code: 'processor_unavailable',
      retryable: true,
    });
  });
});

describe('chooseProcessor', () => {
  const all = () => true;

  it('starts with the primary', () => {
    expect(chooseProcessor(['stripe', 'simulator'], undefined, all)).toBe('stripe');
  });

  it('fails over to the next candidate after a failure known not to have moved money', () => {
    const failed = attempt({ processor: 'stripe', outcome: 'failed', errorKind: 'unavailable' });
    expect(chooseProcessor(['stripe', 'simulator'], failed, all)).toBe('simulator');
    const failedAgain = attempt({
      processor: 'simulator',
      outcome: 'failed',
      errorKind: 'unavailable',
    });
    expect(chooseProcessor(['stripe', 'simulator'], failedAgain, all)).toBe('stripe');
  });

  it('skips an unavailable processor while another is available, else keeps the order', () => {
    expect(chooseProcessor(['stripe', 'simulator'], undefined, (p) => p !== 'stripe')).toBe(
      'simulator',
    );
    expect(chooseProcessor(['stripe', 'simulator'], undefined, () => false)).toBe('stripe');
  });

  it('stays on the only processor a bare token allows', () => {
    const failed = attempt({ processor: 'stripe', outcome: 'failed', errorKind: 'unavailable' });
    expect(chooseProcessor(['stripe'], failed, () => false)).toBe('stripe');
  });
});
