import { ProcessorError } from '../../contracts/src';
import { PriorityRateLimiter, PriorityRateLimiterOptions } from './priority-rate-limiter';
import { RateLimitLane } from './rate-limit-lane';
import { Scheduler } from './scheduler';

/** Fake clock plus a scheduler driven by jest's fake timers. */
function limiter(options: Partial<PriorityRateLimiterOptions> = {}): PriorityRateLimiter {
  return new PriorityRateLimiter({
    ratePerSec: 10,
    burst: 1,
    minRatePerSec: 1,
    clock: () => Date.now(),
    ...options,
  });
}

/** Starts an acquire and records the order in which grants arrive. */
function track(rl: PriorityRateLimiter, order: string[], lane: RateLimitLane, id: string) {
  return rl.acquire(lane).then((grant) => {
    order.push(id);
    return grant;
  });
}

describe('PriorityRateLimiter', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('grants the burst at once, then no more than the rate', async () => {
    const rl = limiter({ ratePerSec: 10, burst: 5 });
    let granted = 0;
    for (let i = 0; i < 40; i++) void rl.acquire('BACKGROUND').then(() => granted++);
    await jest.advanceTimersByTimeAsync(0);
    expect(granted).toBe(5);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(granted).toBe(15);
    await jest.advanceTimersByTimeAsync(1_500);
    expect(granted).toBe(30);
    expect(rl.snapshot().queueDepth.BACKGROUND).toBe(10);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(granted).toBe(40);
  });

  it('serves queued checkout before background that queued earlier', async () => {
    const rl = limiter();
    const order: string[] = [];
    const all = [
      track(rl, order, 'BACKGROUND', 'b1'),
      track(rl, order, 'BACKGROUND', 'b2'),
      track(rl, order, 'BACKGROUND', 'b3'),
      track(rl, order, 'CHECKOUT', 'c1'),
      track(rl, order, 'REFUND', 'r1'),
      track(rl, order, 'CHECKOUT', 'c2'),
    ];
    expect(rl.snapshot().queueDepth).toEqual({
      CHECKOUT: 2,
      REFUND: 1,
      OPERATOR: 0,
      BACKGROUND: 2,
    });
    await jest.advanceTimersByTimeAsync(1_000);
    await Promise.all(all);
    expect(order).toEqual(['b1', 'c1', 'c2', 'r1', 'b2', 'b3']);
  });

  it('is FIFO within a lane and by arrival across REFUND and OPERATOR', async () => {
    const rl = limiter();
    const order: string[] = [];
    void rl.acquire('CHECKOUT');
    const all = [
      track(rl, order, 'OPERATOR', 'o1'),
      track(rl, order, 'REFUND', 'r1'),
      track(rl, order, 'OPERATOR', 'o2'),
      track(rl, order, 'BACKGROUND', 'b1'),
      track(rl, order, 'BACKGROUND', 'b2'),
      track(rl, order, 'REFUND', 'r2'),
    ];
    await jest.advanceTimersByTimeAsync(1_000);
    await Promise.all(all);
    expect(order).toEqual(['o1', 'r1', 'o2', 'r2', 'b1', 'b2']);
  });

  it('reports the queue wait per lane through onWait', async () => {
    const waits: Array<[RateLimitLane, number]> = [];
    const rl = limiter({ onWait: (lane, ms) => waits.push([lane, ms]) });
    await rl.acquire('CHECKOUT');
    const second = rl.acquire('BACKGROUND');
    await jest.advanceTimersByTimeAsync(100);
    await expect(second).resolves.toEqual({ waitedMs: 100 });
    expect(waits).toEqual([
      ['CHECKOUT', 0],
      ['BACKGROUND', 100],
    ]);
  });

  describe('anti-starvation', () => {
    async function backgroundPosition(reservedShare: number): Promise<number> {
      const rl = limiter({ ratePerSec: 100, reservedShare });
      const order: string[] = [];
      void rl.acquire('CHECKOUT');
      const all = [track(rl, order, 'BACKGROUND', 'bg')];
      for (let i = 0; i < 30; i++) all.push(track(rl, order, 'CHECKOUT', `c${i}`));
      await jest.advanceTimersByTimeAsync(1_000);
      await Promise.all(all);
      return order.indexOf('bg');
    }

    it('gives queued background a reserved share while checkout saturates the limiter', async () => {
      // 10 % share: the 10th grant goes to the waiting background request.
      expect(await backgroundPosition(0.1)).toBe(9);
    });

    it('with no reserved share, background waits until checkout is empty', async () => {
      expect(await backgroundPosition(0)).toBe(30);
    });

    it('with the default share checkout keeps 19 of every 20 grants', async () => {
      expect(await backgroundPosition(0.05)).toBe(19);
    });
  });

  it('background is served as soon as checkout is idle', async () => {
    const rl = limiter({ reservedShare: 0 });
    await rl.acquire('CHECKOUT');
    const bg = rl.acquire('BACKGROUND');
    await jest.advanceTimersByTimeAsync(100);
    await expect(bg).resolves.toEqual({ waitedMs: 100 });
  });

  it('rejects a waiter whose maxWaitMs passes with a local rate_limited error', async () => {
    const rl = limiter({ ratePerSec: 1 });
    await rl.acquire('CHECKOUT');
    const waiting = rl.acquire('CHECKOUT', { maxWaitMs: 200 });
    const outcome = waiting.catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(199);
    expect(rl.snapshot().queueDepth.CHECKOUT).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(ProcessorError);
    expect(error).toMatchObject({
      kind: 'rate_limited',
      message: 'local limiter wait exceeded',
      processorCode: 'local_rate_limit',
      knownNotProcessed: true,
    });
    expect(rl.snapshot().queueDepth.CHECKOUT).toBe(0);
    // The token it did not take goes to the next caller.
    await jest.advanceTimersByTimeAsync(800);
    await expect(rl.acquire('CHECKOUT')).resolves.toEqual({ waitedMs: 0 });
  });

  it('rejects at once when a Retry-After pause outlasts maxWaitMs', async () => {
    const rl = limiter();
    rl.onRateLimited(5_000);
    await expect(rl.acquire('CHECKOUT', { maxWaitMs: 1_000 })).rejects.toMatchObject({
      kind: 'rate_limited',
      processorCode: 'local_rate_limit',
      retryAfterMs: 5_000,
    });
  });

  it('drops an aborted waiter', async () => {
    const rl = limiter();
    await rl.acquire('CHECKOUT');
    const controller = new AbortController();
    const waiting = rl.acquire('BACKGROUND', { signal: controller.signal });
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(rl.snapshot().queueDepth.BACKGROUND).toBe(0);
    await expect(rl.acquire('BACKGROUND', { signal: controller.signal })).rejects.toThrow(
      'client went away',
    );
  });

  describe('AIMD', () => {
    it('halves the rate on a 429 and holds every grant until Retry-After', async () => {
      const rl = limiter({ ratePerSec: 100, burst: 10, minRatePerSec: 5 });
      rl.onRateLimited(2_000);
      expect(rl.snapshot()).toMatchObject({ ratePerSec: 50, paused: true, tokens: 0 });
      const waiting = rl.acquire('CHECKOUT');
      let granted = false;
      void waiting.then(() => (granted = true));
      await jest.advanceTimersByTimeAsync(2_000);
      expect(granted).toBe(false);
      // First token at the new rate: 20 ms after the pause ends.
      await jest.advanceTimersByTimeAsync(20);
      await expect(waiting).resolves.toEqual({ waitedMs: 2_020 });
      expect(rl.snapshot().paused).toBe(false);
    });

    it('counts a burst of 429s as one decrease, and floors at minRatePerSec', () => {
      const rl = limiter({ ratePerSec: 100, burst: 10, minRatePerSec: 20 });
      rl.onRateLimited();
      rl.onRateLimited();
      rl.onRateLimited();
      expect(rl.snapshot().ratePerSec).toBe(50);
      jest.advanceTimersByTime(1_000);
      rl.onRateLimited();
      expect(rl.snapshot().ratePerSec).toBe(25);
      jest.advanceTimersByTime(1_000);
      rl.onRateLimited();
      expect(rl.snapshot().ratePerSec).toBe(20);
    });

    it('recovers slowly: +2 % of the max per second of successes, after the pause', () => {
      const rl = limiter({ ratePerSec: 100, burst: 10, minRatePerSec: 5 });
      rl.onRateLimited(1_000);
      rl.onSuccess();
      expect(rl.snapshot().ratePerSec).toBe(50);
      jest.advanceTimersByTime(1_000);
      const rateAfter = (seconds: number): number => {
        for (let i = 0; i < seconds * 10; i++) {
          jest.advanceTimersByTime(100);
          rl.onSuccess();
        }
        return rl.snapshot().ratePerSec;
      };
      expect(rateAfter(10)).toBeCloseTo(70, 6);
      expect(rateAfter(10)).toBeCloseTo(90, 6);
      expect(rateAfter(10)).toBe(100);
    });

    it('a single success after a long idle spell earns one second of increase', () => {
      const rl = limiter({ ratePerSec: 100, burst: 10, minRatePerSec: 5 });
      rl.onRateLimited();
      jest.advanceTimersByTime(60_000);
      rl.onSuccess();
      expect(rl.snapshot().ratePerSec).toBeCloseTo(52, 6);
    });
  });

  it('runs on an injected clock and scheduler without any global timer', async () => {
    jest.useRealTimers();
    let now = 0;
    const timers = new Map<number, { at: number; run: () => void }>();
    let nextId = 0;
    const scheduler: Scheduler = {
      setTimeout: (run, ms) => timers.set(++nextId, { at: now + ms, run }) && nextId,
      clearTimeout: (id) => timers.delete(id as number),
    };
    const advance = (ms: number): void => {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now || !timers.delete(id)) continue;
        timer.run();
      }
    };
    const rl = new PriorityRateLimiter({
      ratePerSec: 4,
      burst: 1,
      minRatePerSec: 1,
      clock: () => now,
      scheduler,
    });
    const grants: number[] = [];
    for (let i = 0; i < 3; i++)
      void rl.acquire('CHECKOUT').then(({ waitedMs }) => grants.push(waitedMs));
    for (let i = 0; i < 4; i++) {
      advance(250);
      await Promise.resolve();
    }
    await Promise.resolve();
    expect(grants).toEqual([0, 250, 500]);
  });

  it('shutdown rejects waiters', async () => {
    const rl = limiter();
    await rl.acquire('CHECKOUT');
    const waiting = rl.acquire('CHECKOUT');
    rl.shutdown();
    await expect(waiting).rejects.toMatchObject({ kind: 'unavailable' });
    expect(jest.getTimerCount()).toBe(0);
  });
});
