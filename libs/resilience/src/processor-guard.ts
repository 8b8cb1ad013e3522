import { ProcessorError, isProcessorError } from '../../contracts/src';
import { Bulkhead } from './bulkhead';
import { BreakerStats, CircuitBreakerOptions, ProcessorCircuitBreaker } from './circuit-breaker';
import {
  PriorityRateLimiter,
  PriorityRateLimiterOptions,
  RateLimiterSnapshot,
} from './priority-rate-limiter';
import { ProcessorOperation } from './processor-operation';
import { RateLimitLane } from './rate-limit-lane';
import { withTimeout } from './with-timeout';

export interface ProcessorGuardOptions {
  /** Per-operation answer deadline; past it the outcome is unknown. */
  readonly timeoutsMs: Readonly<Record<ProcessorOperation, number>>;
  readonly limiter: PriorityRateLimiterOptions;
  readonly bulkhead: { readonly maxConcurrent: number; readonly maxQueue: number };
  readonly breaker?: CircuitBreakerOptions;
  /**
   * Longest queue wait in the limiter per lane (merged over DEFAULT_MAX_WAIT_MS). A checkout
   * that cannot get a token soon is better failed over than kept waiting.
   */
  readonly maxWaitMs?: Partial<Record<RateLimitLane, number>>;
}

export const DEFAULT_MAX_WAIT_MS: Readonly<Partial<Record<RateLimitLane, number>>> = {
  CHECKOUT: 2_000,
};

export interface ProcessorHealth {
  readonly name: string;
  readonly breaker: BreakerStats;
  readonly limiter: RateLimiterSnapshot;
  readonly bulkhead: { readonly inFlight: number; readonly queued: number };
  readonly paused: boolean;
  readonly pauseReason?: string;
}

/**
 * The resilience stack of one processor account:
 * pause check → limiter(lane) → bulkhead → breaker → withTimeout → the call.
 */
export class ProcessorGuard {
  readonly breaker: ProcessorCircuitBreaker;
  readonly limiter: PriorityRateLimiter;
  readonly bulkhead: Bulkhead;
  private readonly maxWaitMs: Partial<Record<RateLimitLane, number>>;
  private pausedFor: string | undefined;

  constructor(
    readonly name: string,
    private readonly options: ProcessorGuardOptions,
  ) {
    this.breaker = new ProcessorCircuitBreaker(name, options.breaker);
    this.limiter = new PriorityRateLimiter(options.limiter);
    this.bulkhead = new Bulkhead(options.bulkhead.maxConcurrent, options.bulkhead.maxQueue);
    this.maxWaitMs = { ...DEFAULT_MAX_WAIT_MS, ...options.maxWaitMs };
  }

  get paused(): boolean {
    return this.pausedFor !== undefined;
  }

  /** Operator pause: every call is refused and the breaker reads open, so routing skips us. */
  pause(reason: string): void {
    this.pausedFor = reason;
    this.breaker.forceOpen();
  }

  resume(): void {
    this.pausedFor = undefined;
    this.breaker.reset();
  }

  async execute<T>(
    operation: ProcessorOperation,
    lane: RateLimitLane,
    call: () => Promise<T>,
  ): Promise<T> {
    this.assertNotPaused();
    await this.limiter.acquire(lane, { maxWaitMs: this.maxWaitMs[lane] });
    // An operator may have paused us while we queued.
    this.assertNotPaused();
    return this.bulkhead.run(() => this.breaker.fire(() => this.timed(operation, call)));
  }

  health(): ProcessorHealth {
    return {
      name: this.name,
      breaker: this.breaker.stats(),
      limiter: this.limiter.snapshot(),
      bulkhead: { inFlight: this.bulkhead.inFlight, queued: this.bulkhead.queued },
      paused: this.paused,
      ...(this.pausedFor === undefined ? {} : { pauseReason: this.pausedFor }),
    };
  }

  shutdown(): void {
    this.limiter.shutdown();
    this.breaker.shutdown();
  }

  private async timed<T>(operation: ProcessorOperation, call: () => Promise<T>): Promise<T> {
    const label = `${this.name} ${operation}`;
    try {
      // The executor turns a synchronous throw from the adapter into a rejection.
      const result = await withTimeout(
        new Promise<T>((resolve) => resolve(call())),
        this.options.timeoutsMs[operation],
        label,
      );
      this.limiter.onSuccess();
      return result;
    } catch (error) {
      this.adapt(error);
      throw error;
    }
  }

  /** AIMD feedback: a 429 slows us down; a decline is an ordinary answer at an accepted rate. */
  private adapt(error: unknown): void {
    if (!isProcessorError(error)) return;
    if (error.kind === 'rate_limited') this.limiter.onRateLimited(error.retryAfterMs);
    else if (error.kind === 'declined') this.limiter.onSuccess();
  }

  private assertNotPaused(): void {
    if (!this.paused) return;
    throw new ProcessorError('unavailable', 'processor paused by an operator', {
      processorCode: 'processor_paused',
    });
  }
}
