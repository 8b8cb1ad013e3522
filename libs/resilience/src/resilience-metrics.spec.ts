import { Registry } from 'prom-client';
import { ProcessorAdapter, ProcessorError } from '../../contracts/src';
import { bindResilienceMetrics, registerResilienceMetrics } from './resilience-metrics';
import { ResilientProcessor } from './resilient-processor';

const unavailable = new ProcessorError('unavailable', '503');
const inner = {
  name: 'stripe',
  ownsToken: () => true,
  parseWebhook: () => ({ eventId: 'e', type: 't', occurredAt: new Date(0), payload: null }),
  authorize: () => Promise.reject(unavailable),
  capture: () => Promise.reject(unavailable),
  cancel: () => Promise.reject(unavailable),
  refund: () => Promise.reject(unavailable),
  retrieve: () => Promise.resolve(null),
} satisfies ProcessorAdapter;

describe('resilience metrics', () => {
  let processor: ResilientProcessor;

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    processor = new ResilientProcessor(inner, {
      timeoutsMs: {
        authorize: 1_000,
        capture: 1_000,
        cancel: 1_000,
        refund: 1_000,
        retrieve: 1_000,
      },
      limiter: { ratePerSec: 20, burst: 5, minRatePerSec: 1 },
      bulkhead: { maxConcurrent: 4, maxQueue: 4 },
      breaker: { volumeThreshold: 1 },
    });
  });

  afterEach(() => {
    processor.guard.shutdown();
    jest.useRealTimers();
  });

  it('registers once per registry', () => {
    const registry = new Registry();
    expect(registerResilienceMetrics(registry)).toBe(registerResilienceMetrics(registry));
    expect(
      registry
        .getMetricsAsArray()
        .map((m) => m.name)
        .sort(),
    ).toEqual([
      'bulkhead_in_flight',
      'processor_breaker_state',
      'processor_breaker_transitions_total',
      'rate_limiter_queue_depth',
      'rate_limiter_rate_per_second',
      'rate_limiter_tokens',
      'rate_limiter_wait_seconds',
    ]);
  });

  it('samples gauges at scrape time and records transitions and waits', async () => {
    const registry = new Registry();
    const metrics = registerResilienceMetrics(registry);
    const unbind = bindResilienceMetrics(metrics, processor);

    await expect(processor.authorize({} as never)).rejects.toBe(unavailable);
    await expect(processor.retrieve({ idempotencyKey: 'k' })).rejects.toMatchObject({
      processorCode: 'circuit_open',
    });
    processor.limiter.onRateLimited(1_000);

    const text = await registry.metrics();
    expect(text).toContain('processor_breaker_state{processor="stripe"} 2');
    expect(text).toContain('processor_breaker_transitions_total{processor="stripe",to="open"} 1');
    expect(text).toContain('rate_limiter_rate_per_second{processor="stripe"} 10');
    expect(text).toContain('rate_limiter_tokens{processor="stripe"} 0');
    expect(text).toContain('rate_limiter_queue_depth{processor="stripe",lane="BACKGROUND"} 0');
    expect(text).toContain('bulkhead_in_flight{processor="stripe"} 0');
    expect(text).toContain('rate_limiter_wait_seconds_count{processor="stripe",lane="CHECKOUT"} 1');
    expect(text).toContain(
      'rate_limiter_wait_seconds_count{processor="stripe",lane="BACKGROUND"} 1',
    );

    unbind();
    expect(await registry.metrics()).not.toContain('processor_breaker_state{processor="stripe"}');
  });
});
