import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BreakerState } from './circuit-breaker';
import { RATE_LIMIT_LANES } from './rate-limit-lane';
import { ResilientProcessor } from './resilient-processor';

// Fine around 50–250 ms: the CHECKOUT lane's target is a p99 of 200 ms.
const WAIT_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

/**
 * Resilience metrics of every bound processor. Gauges are sampled when Prometheus scrapes
 * (token counts change continuously); transitions and waits are recorded as they happen.
 */
export class ResilienceMetrics {
  readonly breakerState: Gauge<'processor'>;
  readonly breakerTransitions: Counter<'processor' | 'to'>;
  readonly limiterTokens: Gauge<'processor'>;
  readonly limiterRate: Gauge<'processor'>;
  readonly limiterQueueDepth: Gauge<'processor' | 'lane'>;
  readonly limiterWait: Histogram<'processor' | 'lane'>;
  readonly bulkheadInFlight: Gauge<'processor'>;
  private readonly processors = new Set<ResilientProcessor>();

  constructor(registry: Registry) {
    const registers = [registry];
    const sample = (): void => this.sample();
    this.breakerState = new Gauge({
      name: 'processor_breaker_state',
      help: 'Circuit breaker state per processor (0 closed, 1 half-open, 2 open)',
      labelNames: ['processor'] as const,
      registers,
      collect: sample,
    });
    this.breakerTransitions = new Counter({
      name: 'processor_breaker_transitions_total',
      help: 'Circuit breaker state transitions per processor and target state',
      labelNames: ['processor', 'to'] as const,
      registers,
    });
    this.limiterTokens = new Gauge({
      name: 'rate_limiter_tokens',
      help: 'Tokens currently in the processor rate limiter bucket',
      labelNames: ['processor'] as const,
      registers,
      collect: sample,
    });
    this.limiterRate = new Gauge({
      name: 'rate_limiter_rate_per_second',
      help: 'Current (AIMD-adapted) rate of the processor rate limiter',
      labelNames: ['processor'] as const,
      registers,
      collect: sample,
    });
    this.limiterQueueDepth = new Gauge({
      name: 'rate_limiter_queue_depth',
      help: 'Requests waiting for a rate limiter token per processor and lane',
      labelNames: ['processor', 'lane'] as const,
      registers,
      collect: sample,
    });
    this.limiterWait = new Histogram({
      name: 'rate_limiter_wait_seconds',
      help: 'Time spent waiting for a rate limiter token per processor and lane',
      labelNames: ['processor', 'lane'] as const,
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.bulkheadInFlight = new Gauge({
      name: 'bulkhead_in_flight',
      help: 'Processor calls in flight inside the bulkhead',
      labelNames: ['processor'] as const,
      registers,
      collect: sample,
    });
  }

  /** Starts sampling a processor's gauges; returns the function that stops it. */
  track(processor: ResilientProcessor): () => void {
    this.processors.add(processor);
    return () => {
      this.processors.delete(processor);
      this.sample();
    };
  }

  /** Refreshes every sampled gauge (each gauge's collect calls this; cheap and idempotent). */
  sample(): void {
    for (const gauge of [this.breakerState, this.limiterTokens, this.limiterRate]) gauge.reset();
    this.limiterQueueDepth.reset();
    this.bulkheadInFlight.reset();
    for (const processor of this.processors) {
      const labels = { processor: processor.name };
      const limiter = processor.limiter.snapshot();
      this.breakerState.set(labels, BREAKER_STATE_VALUE[processor.breaker.state]);
      this.limiterTokens.set(labels, limiter.tokens);
      this.limiterRate.set(labels, limiter.ratePerSec);
      this.bulkheadInFlight.set(labels, processor.bulkhead.inFlight);
      for (const lane of RATE_LIMIT_LANES) {
        this.limiterQueueDepth.set({ ...labels, lane }, limiter.queueDepth[lane]);
      }
    }
  }
}

const byRegistry = new WeakMap<Registry, ResilienceMetrics>();

/** Creates the resilience metrics on a registry (once; later calls return the same set). */
export function registerResilienceMetrics(registry: Registry): ResilienceMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = new ResilienceMetrics(registry);
    byRegistry.set(registry, metrics);
  }
  return metrics;
}

/** Wires a processor's breaker and limiter hooks into the metrics; returns the unbind function. */
export function bindResilienceMetrics(
  metrics: ResilienceMetrics,
  processor: ResilientProcessor,
): () => void {
  const processorLabel = processor.name;
  const untrack = metrics.track(processor);
  const offState = processor.breaker.onStateChange((to) => {
    metrics.breakerTransitions.inc({ processor: processorLabel, to });
  });
  const offWait = processor.limiter.onWait((lane, waitedMs) => {
    metrics.limiterWait.observe({ processor: processorLabel, lane }, waitedMs / 1000);
  });
  return () => {
    offState();
    offWait();
    untrack();
  };
}
