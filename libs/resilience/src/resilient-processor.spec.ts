import {
  AuthorizeRequest,
  ParsedWebhook,
  ProcessorAdapter,
  ProcessorError,
  ProcessorPaymentResult,
  ProcessorRefundResult,
} from '../../contracts/src';
import { CaptureMethod, CurrencyCode } from '../../domain/src';
import { ProcessorOperation } from './processor-operation';
import { ResilientProcessor, ResilientProcessorOptions } from './resilient-processor';

type Step = () => Promise<unknown>;

/** Inner adapter that answers each verb from a script (default: success) and records calls. */
class ScriptedAdapter implements ProcessorAdapter {
  readonly name = 'sim';
  readonly calls: ProcessorOperation[] = [];
  private readonly script: Step[] = [];
  readonly webhook: ParsedWebhook = {
    eventId: 'evt_1',
    type: 'payment.succeeded',
    occurredAt: new Date(0),
    payload: {},
  };

  then(...steps: Step[]): this {
    this.script.push(...steps);
    return this;
  }

  ownsToken(token: string): boolean {
    return token.startsWith('sim_');
  }

  parseWebhook(): ParsedWebhook {
    return this.webhook;
  }

  authorize(): Promise<ProcessorPaymentResult> {
    return this.answer('authorize', PAYMENT);
  }

  capture(): Promise<ProcessorPaymentResult> {
    return this.answer('capture', PAYMENT);
  }

  cancel(): Promise<ProcessorPaymentResult> {
    return this.answer('cancel', PAYMENT);
  }

  refund(): Promise<ProcessorRefundResult> {
    return this.answer('refund', REFUND);
  }

  retrieve(): Promise<ProcessorPaymentResult | null> {
    return this.answer('retrieve', PAYMENT);
  }

  private answer<T>(operation: ProcessorOperation, fallback: T): Promise<T> {
    this.calls.push(operation);
    const step = this.script.shift();
    return step ? (step() as Promise<T>) : Promise.resolve(fallback);
  }
}

const PAYMENT: ProcessorPaymentResult = {
  status: 'authorized',
  processorReference: 'pi_1',
  amountAuthorized: 1000,
  amountCaptured: 0,
};
const REFUND: ProcessorRefundResult = {
  status: 'succeeded',
  processorReference: 're_1',
  amount: 1,
};
const AUTHORIZE: AuthorizeRequest = {
  idempotencyKey: 'pay_1:authorize:1',
  paymentId: 'pay_1',
  amount: 1000,
  currency: 'EUR' as CurrencyCode,
  paymentMethodToken: 'sim_ok',
  captureMethod: 'automatic' as CaptureMethod,
};
const KEYED = { idempotencyKey: 'k', processorReference: 'pi_1' };

const OPTIONS: ResilientProcessorOptions = {
  timeoutsMs: { authorize: 1_000, capture: 1_000, cancel: 1_000, refund: 1_000, retrieve: 500 },
  limiter: { ratePerSec: 100, burst: 10, minRatePerSec: 1 },
  bulkhead: { maxConcurrent: 2, maxQueue: 0 },
  breaker: { volumeThreshold: 2, resetTimeoutMs: 5_000 },
};

const fail =
  (error: ProcessorError): Step =>
  () =>
    Promise.reject(error);
const never: Step = () => new Promise(() => undefined);

describe('ResilientProcessor', () => {
  let inner: ScriptedAdapter;
  let processor: ResilientProcessor;

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    inner = new ScriptedAdapter();
    processor = new ResilientProcessor(inner, OPTIONS);
  });

  afterEach(() => {
    processor.guard.shutdown();
    jest.useRealTimers();
  });

  it('passes results through and reports healthy', async () => {
    await expect(processor.authorize(AUTHORIZE)).resolves.toEqual(PAYMENT);
    await expect(processor.refund({ ...KEYED, refundId: 'r', amount: 1 })).resolves.toEqual(REFUND);
    expect(inner.calls).toEqual(['authorize', 'refund']);
    expect(processor.health()).toMatchObject({
      name: 'sim',
      paused: false,
      breaker: { state: 'closed', calls: 2, failures: 0 },
      limiter: { ratePerSec: 100, paused: false },
      bulkhead: { inFlight: 0, queued: 0 },
    });
  });

  it('passes name, ownsToken and parseWebhook straight through, outside the limiter', () => {
    const acquire = jest.spyOn(processor.limiter, 'acquire');
    processor.pause('maintenance');
    expect(processor.name).toBe('sim');
    expect(processor.ownsToken('sim_ok')).toBe(true);
    expect(processor.ownsToken('pm_card')).toBe(false);
    expect(processor.parseWebhook(Buffer.from('{}'), 'sig')).toBe(inner.webhook);
    expect(acquire).not.toHaveBeenCalled();
  });

  it('picks the lane per verb, and withLane pins one on a shared stack', async () => {
    const acquire = jest.spyOn(processor.limiter, 'acquire');
    const lanes = () => acquire.mock.calls.map(([lane]) => lane);
    await processor.authorize(AUTHORIZE);
    await processor.capture({ ...KEYED, amount: 1 });
    await processor.cancel(KEYED);
    await processor.refund({ ...KEYED, refundId: 'r', amount: 1 });
    await processor.retrieve(KEYED);
    expect(lanes()).toEqual(['CHECKOUT', 'CHECKOUT', 'CHECKOUT', 'REFUND', 'BACKGROUND']);

    acquire.mockClear();
    const background = processor.withLane('BACKGROUND');
    const operator = processor.withLane('OPERATOR');
    await background.authorize(AUTHORIZE);
    await operator.refund({ ...KEYED, refundId: 'r', amount: 1 });
    expect(lanes()).toEqual(['BACKGROUND', 'OPERATOR']);
    expect(background.guard).toBe(processor.guard);
    expect(background.name).toBe('sim');
  });

  it('feeds 429s (with Retry-After) and successes back into the limiter', async () => {
    const onRateLimited = jest.spyOn(processor.limiter, 'onRateLimited');
    const onSuccess = jest.spyOn(processor.limiter, 'onSuccess');
    const limited = new ProcessorError('rate_limited', 'HTTP 429', { retryAfterMs: 1_500 });
    inner.then(fail(limited));

    await expect(processor.authorize(AUTHORIZE)).rejects.toBe(limited);
    expect(onRateLimited).toHaveBeenCalledWith(1_500);
    expect(processor.health().limiter).toMatchObject({ ratePerSec: 50, paused: true });
    expect(processor.health().breaker.failures).toBe(0);

    const next = processor.authorize(AUTHORIZE);
    await jest.advanceTimersByTimeAsync(1_520);
    await expect(next).resolves.toEqual(PAYMENT);
    expect(onSuccess).toHaveBeenCalledTimes(1);
  });

  it('counts a decline as an answer: rethrown, no breaker failure, AIMD success', async () => {
    const onSuccess = jest.spyOn(processor.limiter, 'onSuccess');
    const declined = new ProcessorError('declined', 'card declined');
    inner.then(fail(declined), fail(declined), fail(declined));
    for (let i = 0; i < 3; i++) await expect(processor.authorize(AUTHORIZE)).rejects.toBe(declined);
    expect(processor.breaker.state).toBe('closed');
    expect(onSuccess).toHaveBeenCalledTimes(3);
  });

  it('times out per operation with an unknown outcome, which the breaker counts', async () => {
    inner.then(never);
    const outcome = processor.retrieve(KEYED).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(500);
    await expect(outcome).resolves.toMatchObject({
      kind: 'timeout_unknown_outcome',
      message: 'sim retrieve: no answer within 500 ms',
    });
    expect(processor.health().breaker).toMatchObject({ calls: 1, failures: 1 });
  });

  it('opens the breaker on unavailability and then fails fast without calling', async () => {
    inner.then(
      fail(new ProcessorError('unavailable', '503')),
      fail(new ProcessorError('unavailable', '503')),
    );
    await expect(processor.authorize(AUTHORIZE)).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(processor.authorize(AUTHORIZE)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(processor.breaker.state).toBe('open');

    await expect(processor.authorize(AUTHORIZE)).rejects.toMatchObject({
      kind: 'unavailable',
      processorCode: 'circuit_open',
      knownNotProcessed: true,
    });
    expect(inner.calls).toHaveLength(2);

    await jest.advanceTimersByTimeAsync(5_000);
    await expect(processor.authorize(AUTHORIZE)).resolves.toEqual(PAYMENT);
    expect(processor.breaker.state).toBe('closed');
  });

  it('refuses beyond the bulkhead without calling (safe to fail over)', async () => {
    inner.then(never, never);
    void processor.capture({ ...KEYED, amount: 1 }).catch(() => undefined);
    void processor.capture({ ...KEYED, amount: 1 }).catch(() => undefined);
    await jest.advanceTimersByTimeAsync(0);
    expect(processor.health().bulkhead).toEqual({ inFlight: 2, queued: 0 });
    await expect(processor.capture({ ...KEYED, amount: 1 })).rejects.toMatchObject({
      kind: 'unavailable',
      processorCode: 'bulkhead_full',
      knownNotProcessed: true,
    });
    expect(inner.calls).toHaveLength(2);
  });

  it('pause refuses every verb, opens the breaker for routing; resume restores', async () => {
    processor.pause('provider incident INC-42');
    const paused = {
      kind: 'unavailable',
      message: 'processor paused by an operator',
      processorCode: 'processor_paused',
      knownNotProcessed: true,
    };
    await expect(processor.authorize(AUTHORIZE)).rejects.toMatchObject(paused);
    await expect(processor.withLane('OPERATOR').cancel(KEYED)).rejects.toMatchObject(paused);
    expect(inner.calls).toEqual([]);
    expect(processor.health()).toMatchObject({
      paused: true,
      pauseReason: 'provider incident INC-42',
      breaker: { state: 'open' },
    });

    processor.resume();
    expect(processor.health()).toMatchObject({ paused: false, breaker: { state: 'closed' } });
    expect(processor.health()).not.toHaveProperty('pauseReason');
    await expect(processor.authorize(AUTHORIZE)).resolves.toEqual(PAYMENT);
  });

  it('rejects calls that were queued in the limiter when a pause arrives', async () => {
    processor.limiter.onRateLimited(1_000);
    const queued = processor.retrieve(KEYED).catch((e: unknown) => e);
    processor.pause('stop');
    await jest.advanceTimersByTimeAsync(1_100);
    await expect(queued).resolves.toMatchObject({ processorCode: 'processor_paused' });
    expect(inner.calls).toEqual([]);
  });

  it('fails a checkout fast when the limiter cannot grant within its max wait', async () => {
    processor.limiter.onRateLimited(10_000);
    await expect(processor.authorize(AUTHORIZE)).rejects.toMatchObject({
      kind: 'rate_limited',
      processorCode: 'local_rate_limit',
    });
    expect(inner.calls).toEqual([]);
  });
});
