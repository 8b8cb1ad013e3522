import { ProcessorError } from '../../contracts/src';
import { BreakerState, ProcessorCircuitBreaker } from './circuit-breaker';

const unavailable = (): ProcessorError => new ProcessorError('unavailable', 'HTTP 503');
const timeout = (): ProcessorError => new ProcessorError('timeout_unknown_outcome', 'no answer');
const declined = (): ProcessorError =>
  new ProcessorError('declined', 'card declined', { declineCode: 'insufficient_funds' });

describe('ProcessorCircuitBreaker', () => {
  let breaker: ProcessorCircuitBreaker;
  const ok = jest.fn(() => Promise.resolve('ok'));

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    ok.mockClear();
    breaker = new ProcessorCircuitBreaker('stripe', {
      volumeThreshold: 4,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 5_000,
    });
  });

  afterEach(() => {
    breaker.shutdown();
    jest.useRealTimers();
  });

  const fail = (error: ProcessorError) =>
    expect(breaker.fire(() => Promise.reject(error))).rejects.toBe(error);

  async function trip(): Promise<void> {
    for (let i = 0; i < 4; i++) await fail(unavailable());
    expect(breaker.state).toBe('open');
  }

  it('stays closed below the minimum volume, then opens past the threshold', async () => {
    for (let i = 0; i < 3; i++) await fail(unavailable());
    expect(breaker.state).toBe('closed');
    await fail(timeout());
    expect(breaker.state).toBe('open');
    expect(breaker.stats()).toMatchObject({ state: 'open', calls: 4, failures: 4, errorRate: 1 });
  });

  it('does not open at exactly the threshold percentage', async () => {
    await breaker.fire(ok);
    await breaker.fire(ok);
    await fail(unavailable());
    await fail(unavailable());
    expect(breaker.stats()).toMatchObject({ state: 'closed', calls: 4, errorRate: 0.5 });
  });

  it('never trips on declines or other answered errors, and rethrows them unchanged', async () => {
    const answered = [
      declined(),
      new ProcessorError('invalid_request', 'bad amount'),
      new ProcessorError('authentication', 'bad key'),
      new ProcessorError('rate_limited', '429'),
      new ProcessorError('not_supported', 'no'),
    ];
    for (let i = 0; i < 20; i++) await fail(answered[i % answered.length]);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ calls: 20, failures: 0, errorRate: 0 });
  });

  it('when open, fails fast with a known-not-processed circuit_open error without calling', async () => {
    await trip();
    const error = await breaker.fire(ok).catch((e: unknown) => e);
    expect(ok).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(ProcessorError);
    expect(error).toMatchObject({
      kind: 'unavailable',
      processorCode: 'circuit_open',
      message: 'circuit open for stripe',
      knownNotProcessed: true,
    });
    expect(breaker.stats().rejected).toBe(1);
  });

  it('lets one half-open probe through and closes on its success', async () => {
    await trip();
    jest.advanceTimersByTime(5_000);
    expect(breaker.state).toBe('half_open');

    let answer!: (value: string) => void;
    const probe = breaker.fire(() => new Promise<string>((resolve) => (answer = resolve)));
    // While the probe is in flight everything else is refused.
    await expect(breaker.fire(ok)).rejects.toMatchObject({ processorCode: 'circuit_open' });
    expect(ok).not.toHaveBeenCalled();

    answer('probe ok');
    await expect(probe).resolves.toBe('probe ok');
    expect(breaker.state).toBe('closed');
    await expect(breaker.fire(ok)).resolves.toBe('ok');
  });

  it('re-opens when the half-open probe fails', async () => {
    await trip();
    jest.advanceTimersByTime(5_000);
    await fail(unavailable());
    expect(breaker.state).toBe('open');
    jest.advanceTimersByTime(5_000);
    expect(breaker.state).toBe('half_open');
  });

  it('closes when the probe gets an answered error such as a decline', async () => {
    await trip();
    jest.advanceTimersByTime(5_000);
    await fail(declined());
    expect(breaker.state).toBe('closed');
  });

  it('reports transitions to listeners', async () => {
    const seen: Array<[BreakerState, BreakerState]> = [];
    const off = breaker.onStateChange((to, from) => seen.push([to, from]));
    await trip();
    jest.advanceTimersByTime(5_000);
    await breaker.fire(ok);
    off();
    breaker.forceOpen();
    expect(seen).toEqual([
      ['open', 'closed'],
      ['half_open', 'open'],
      ['closed', 'half_open'],
    ]);
  });

  it('forceOpen holds the breaker open (no probes) until reset', async () => {
    const seen: BreakerState[] = [];
    breaker.onStateChange((to) => seen.push(to));
    breaker.forceOpen();
    jest.advanceTimersByTime(60_000);
    expect(breaker.state).toBe('open');
    await expect(breaker.fire(ok)).rejects.toMatchObject({ processorCode: 'circuit_open' });
    expect(ok).not.toHaveBeenCalled();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    await expect(breaker.fire(ok)).resolves.toBe('ok');
    expect(seen).toEqual(['open', 'closed']);
  });

  it('reset closes a tripped breaker', async () => {
    await trip();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    await expect(breaker.fire(ok)).resolves.toBe('ok');
  });

  it('tracks latency percentiles over recent calls', async () => {
    for (const ms of [10, 20, 30, 40, 100]) {
      const call = breaker.fire(() => new Promise((resolve) => setTimeout(resolve, ms)));
      await jest.advanceTimersByTimeAsync(ms);
      await call;
    }
    expect(breaker.stats().latencyMs).toEqual({ p50: 30, p95: 100, p99: 100 });
  });

  it('after shutdown refuses calls as unavailable', async () => {
    breaker.shutdown();
    await expect(breaker.fire(ok)).rejects.toMatchObject({
      kind: 'unavailable',
      processorCode: 'circuit_shutdown',
    });
    expect(breaker.state).toBe('open');
  });
});
