import { bucketDelta, bucketQuantile, histogramBuckets } from './prometheus-histogram';

const page = (n: [number, number, number, number]) => `
# HELP rate_limiter_wait_seconds x
rate_limiter_wait_seconds_bucket{le="0.1",processor="stripe",lane="CHECKOUT"} ${n[0]}
rate_limiter_wait_seconds_bucket{le="0.2",processor="stripe",lane="CHECKOUT"} ${n[1]}
rate_limiter_wait_seconds_bucket{le="+Inf",processor="stripe",lane="CHECKOUT"} ${n[2]}
rate_limiter_wait_seconds_bucket{le="0.1",processor="stripe",lane="BACKGROUND"} ${n[3]}
rate_limiter_wait_seconds_count{processor="stripe",lane="CHECKOUT"} ${n[2]}
`;

describe('Prometheus histogram helpers (benchmark)', () => {
  it('reads the buckets of one label set and interpolates quantiles of a delta', () => {
    const before = histogramBuckets(page([10, 10, 10, 7]), 'rate_limiter_wait_seconds', {
      lane: 'CHECKOUT',
    });
    const after = histogramBuckets(page([90, 109, 110, 9]), 'rate_limiter_wait_seconds', {
      lane: 'CHECKOUT',
    });
    const delta = bucketDelta(before, after);
    expect([...delta.values()]).toEqual([80, 99, 100]);
    expect(bucketQuantile(delta, 0.5)).toBeCloseTo(0.0625, 6);
    expect(bucketQuantile(delta, 0.99)).toBeCloseTo(0.2, 6);
    expect(bucketQuantile(delta, 0.8)).toBeCloseTo(0.1, 6);
    expect(bucketQuantile(delta, 1)).toBe(0.2);
  });

  it('has no quantile without observations', () => {
    expect(bucketQuantile(new Map([[Number.POSITIVE_INFINITY, 0]]), 0.99)).toBeNull();
  });
});
