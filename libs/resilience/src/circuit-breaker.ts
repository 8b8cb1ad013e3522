import CircuitBreaker from 'opossum';
import { ProcessorError, ProcessorErrorKind, isProcessorError } from '../../contracts/src';
import { LatencyPercentiles, LatencyRing } from './latency-ring';
import { systemClock } from './scheduler';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Failure percentage over the window above which the breaker opens. */
  readonly errorThresholdPercentage?: number;
  /** Minimum calls in the window before the breaker may open. */
  readonly volumeThreshold?: number;
  readonly rollingCountTimeoutMs?: number;
  readonly rollingCountBuckets?: number;
  /** Time spent open before one half-open probe is let through. */
  readonly resetTimeoutMs?: number;
  /** How many recent latencies the percentiles are computed over. */
  readonly latencySamples?: number;
  readonly clock?: () => number;
}

export interface BreakerStats {
  readonly state: BreakerState;
  /** Failures / completed calls over the rolling window, 0..1. */
  readonly errorRate: number;
  /** Completed calls (successes + counted failures) in the rolling window. */
  readonly calls: number;
  readonly failures: number;
  /** Calls refused without being made because the breaker was open, in the window. */
  readonly rejected: number;
  readonly latencyMs: LatencyPercentiles;
}

export type BreakerStateListener = (to: BreakerState, from: BreakerState) => void;

type Call = () => Promise<unknown>;

/** Only transport, 5xx and timeout failures say the processor is unhealthy (DESIGN.md §6). */
const HEALTH_FAILURE_KINDS: ReadonlySet<ProcessorErrorKind> = new Set([
  'unavailable',
  'timeout_unknown_outcome',
]);

export function countsAsBreakerFailure(error: unknown): boolean {
  return isProcessorError(error) && HEALTH_FAILURE_KINDS.has(error.kind);
}

/**
 * One breaker per processor around opossum. Declines and other answered errors pass through
 * untouched and count as healthy calls; an open breaker fails fast with a known-not-processed
 * `unavailable` error so the caller may fail over.
 */
export class ProcessorCircuitBreaker {
  private readonly breaker: CircuitBreaker<[Call], unknown>;
  private readonly latencies: LatencyRing;
  private readonly listeners = new Set<BreakerStateListener>();
  private readonly clock: () => number;
  private forced = false;
  private last: BreakerState = 'closed';

  constructor(
    readonly name: string,
    options: CircuitBreakerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.latencies = new LatencyRing(options.latencySamples);
    this.breaker = new CircuitBreaker<[Call], unknown>((call) => this.timed(call), {
      name,
      // Timeouts are the caller's business (withTimeout inside the breaker).
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
      volumeThreshold: options.volumeThreshold ?? 10,
      rollingCountTimeout: options.rollingCountTimeoutMs ?? 10_000,
      rollingCountBuckets: options.rollingCountBuckets ?? 10,
      resetTimeout: options.resetTimeoutMs ?? 5_000,
      // opossum: true means "not a failure"; such errors are still rethrown as they are.
      errorFilter: (error: unknown) => !countsAsBreakerFailure(error),
      // We keep our own latency ring and do not need opossum's periodic snapshots.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.breaker.on('open', () => this.publish());
    this.breaker.on('halfOpen', () => this.publish());
    this.breaker.on('close', () => this.publish());
  }

  get state(): BreakerState {
    if (this.forced || this.breaker.opened || this.breaker.isShutdown) return 'open';
    return this.breaker.halfOpen ? 'half_open' : 'closed';
  }

  async fire<T>(call: () => Promise<T>): Promise<T> {
    if (this.forced) throw this.openError();
    try {
      return (await this.breaker.fire(call)) as T;
    } catch (error) {
      throw this.translate(error);
    }
  }

  stats(): BreakerStats {
    const window = this.breaker.stats;
    const calls = window.successes + window.failures;
    return {
      state: this.state,
      errorRate: calls === 0 ? 0 : window.failures / calls,
      calls,
      failures: window.failures,
      rejected: window.rejects,
      latencyMs: this.latencies.percentiles(),
    };
  }

  /** Subscribes to state transitions; returns the unsubscribe function. */
  onStateChange(listener: BreakerStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Operator pause: stays open (no half-open probes) until reset(). */
  forceOpen(): void {
    this.forced = true;
    this.publish();
  }

  /** Clears a forced open and closes the breaker. */
  reset(): void {
    if (this.breaker.isShutdown) return;
    this.forced = false;
    this.breaker.close();
    this.publish();
  }

  shutdown(): void {
    this.breaker.shutdown();
    this.listeners.clear();
  }

  private async timed(call: Call): Promise<unknown> {
    const started = this.clock();
    try {
      return await call();
    } finally {
      this.latencies.record(this.clock() - started);
    }
  }

  private translate(error: unknown): unknown {
    if (!(error instanceof Error) || !CircuitBreaker.isOurError(error)) return error;
    if ((error as { code?: string }).code === 'ESHUTDOWN') {
      return new ProcessorError('unavailable', `circuit shut down for ${this.name}`, {
        processorCode: 'circuit_shutdown',
      });
    }
    return this.openError();
  }

  private openError(): ProcessorError {
    return new ProcessorError('unavailable', `circuit open for ${this.name}`, {
      processorCode: 'circuit_open',
    });
  }

  private publish(): void {
    const next = this.state;
    if (next === this.last) return;
    const previous = this.last;
    this.last = next;
    for (const listener of this.listeners) {
      // A failing listener (metrics, logs) must not break opossum's event flow.
      try {
        listener(next, previous);
      } catch {
        /* ignored */
      }
    }
  }
}
