import { ProcessorError } from '../../contracts/src';
import { AdaptiveRate } from './adaptive-rate';
import { LaneQueue } from './lane-queue';
import { RateLimitLane } from './rate-limit-lane';
import { Scheduler, realScheduler, systemClock } from './scheduler';
import { TokenBucket } from './token-bucket';

export type WaitListener = (lane: RateLimitLane, waitedMs: number) => void;

export interface PriorityRateLimiterOptions {
  /** Configured (and maximum) rate; AIMD moves between minRatePerSec and this. */
  readonly ratePerSec: number;
  readonly burst: number;
  readonly minRatePerSec: number;
  /** Share of grants reserved for lower lanes while higher ones are queued (default 0.05). */
  readonly reservedShare?: number;
  /** 429s closer together than this halve the rate only once (default 1000 ms). */
  readonly decreaseCooldownMs?: number;
  readonly clock?: () => number;
  readonly scheduler?: Scheduler;
  /** Called on every grant with the time spent queued (0 when served at once). */
  readonly onWait?: WaitListener;
}

export interface AcquireOptions {
  readonly signal?: AbortSignal;
  /** Longer than this in the queue → rejected with a local `rate_limited` error. */
  readonly maxWaitMs?: number;
}

export interface RateLimiterSnapshot {
  readonly ratePerSec: number;
  readonly tokens: number;
  readonly paused: boolean;
  readonly queueDepth: Record<RateLimitLane, number>;
}

interface Waiter {
  readonly lane: RateLimitLane;
  readonly seq: number;
  readonly enqueuedAt: number;
  readonly resolve: (grant: { waitedMs: number }) => void;
  readonly reject: (error: unknown) => void;
  readonly cleanup: () => void;
}

/**
 * Token bucket with priority lanes and AIMD, one per processor account (DESIGN.md §6).
 * Lane order and the anti-starvation share are described on LaneQueue.
 */
export class PriorityRateLimiter {
  private readonly clock: () => number;
  private readonly scheduler: Scheduler;
  private readonly bucket: TokenBucket;
  private readonly rate: AdaptiveRate;
  private readonly queue: LaneQueue<Waiter>;
  private readonly waitListeners = new Set<WaitListener>();
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private timer: unknown;
  private seq = 0;

  constructor(options: PriorityRateLimiterOptions) {
    if (!(options.burst >= 1)) throw new RangeError('burst must be at least 1');
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.scheduler ?? realScheduler;
    this.bucket = new TokenBucket(options.burst, this.clock());
    this.rate = new AdaptiveRate({
      maxRatePerSec: options.ratePerSec,
      minRatePerSec: options.minRatePerSec,
      decreaseCooldownMs: options.decreaseCooldownMs,
    });
    this.queue = new LaneQueue(options.reservedShare ?? 0.05);
    if (options.onWait) this.waitListeners.add(options.onWait);
  }

  /** Resolves when a token is granted to this lane. */
  acquire(lane: RateLimitLane, options: AcquireOptions = {}): Promise<{ waitedMs: number }> {
    const now = this.clock();
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    if (
      this.queue.size === 0 &&
      !this.isPaused(now) &&
      this.bucket.tryTake(now, this.rate.current)
    ) {
      this.notifyWait(lane, 0);
      return Promise.resolve({ waitedMs: 0 });
    }
    // Fail fast when a Retry-After pause alone outlasts the caller's patience.
    const pauseLeft = this.pausedUntil - now;
    if (options.maxWaitMs !== undefined && pauseLeft > options.maxWaitMs) {
      return Promise.reject(waitExceeded(pauseLeft));
    }
    return new Promise((resolve, reject) => this.enqueue(lane, now, options, resolve, reject));
  }

  /** A 429 from the processor: halve the rate and hold every grant until Retry-After. */
  onRateLimited(retryAfterMs?: number): void {
    const now = this.clock();
    this.bucket.refill(now, this.rate.current);
    this.pausedUntil = Math.max(this.pausedUntil, now + Math.max(0, retryAfterMs ?? 0));
    // The burst is what provoked the 429: start again from an empty bucket.
    this.bucket.drainUntil(this.pausedUntil);
    this.rate.decrease(now, this.pausedUntil);
    this.pump();
  }

  /** The processor accepted a call: creep the rate back up. */
  onSuccess(): void {
    const now = this.clock();
    this.bucket.refill(now, this.rate.current);
    this.rate.increase(now);
  }

  /** Subscribes to grant waits (metrics); returns the unsubscribe function. */
  onWait(listener: WaitListener): () => void {
    this.waitListeners.add(listener);
    return () => this.waitListeners.delete(listener);
  }

  snapshot(): RateLimiterSnapshot {
    const now = this.clock();
    return {
      ratePerSec: this.rate.current,
      tokens: this.bucket.available(now, this.rate.current),
      paused: this.isPaused(now),
      queueDepth: this.queue.depth(),
    };
  }

  /** Rejects every waiter and stops the timer. */
  shutdown(): void {
    this.cancelTimer();
    for (let waiter = this.queue.shift(); waiter; waiter = this.queue.shift()) {
      waiter.cleanup();
      waiter.reject(
        new ProcessorError('unavailable', 'rate limiter shut down', {
          processorCode: 'local_rate_limit',
        }),
      );
    }
  }

  private enqueue(
    lane: RateLimitLane,
    now: number,
    { signal, maxWaitMs }: AcquireOptions,
    resolve: Waiter['resolve'],
    reject: Waiter['reject'],
  ): void {
    let deadline: unknown;
    const onAbort = (): void => this.drop(waiter, abortReason(signal!));
    const waiter: Waiter = {
      lane,
      seq: this.seq++,
      enqueuedAt: now,
      resolve,
      reject,
      cleanup: () => {
        if (deadline !== undefined) this.scheduler.clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
      },
    };
    if (maxWaitMs !== undefined) {
      deadline = this.scheduler.setTimeout(() => {
        this.drop(waiter, waitExceeded(this.pausedUntil - this.clock()));
      }, maxWaitMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    this.queue.push(waiter);
    this.pump();
  }

  private drop(waiter: Waiter, error: unknown): void {
    if (!this.queue.remove(waiter)) return;
    waiter.cleanup();
    waiter.reject(error);
    this.pump();
  }

  /** Grants what the bucket allows, then sleeps until the next token (or pause end). */
  private pump(): void {
    this.cancelTimer();
    const now = this.clock();
    while (
      this.queue.size > 0 &&
      !this.isPaused(now) &&
      this.bucket.tryTake(now, this.rate.current)
    ) {
      const waiter = this.queue.shift()!;
      waiter.cleanup();
      const waitedMs = now - waiter.enqueuedAt;
      this.notifyWait(waiter.lane, waitedMs);
      waiter.resolve({ waitedMs });
    }
    if (this.queue.size === 0) return;
    const delay = Math.max(1, this.bucket.msUntilToken(now, this.rate.current));
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private isPaused(now: number): boolean {
    return now < this.pausedUntil;
  }

  private notifyWait(lane: RateLimitLane, waitedMs: number): void {
    for (const listener of this.waitListeners) {
      try {
        listener(lane, waitedMs);
      } catch {
        /* a metrics hook must not break grants */
      }
    }
  }
}

function waitExceeded(retryAfterMs: number): ProcessorError {
  return new ProcessorError('rate_limited', 'local limiter wait exceeded', {
    processorCode: 'local_rate_limit',
    retryAfterMs: retryAfterMs > 0 ? retryAfterMs : undefined,
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('rate limiter wait aborted');
}
