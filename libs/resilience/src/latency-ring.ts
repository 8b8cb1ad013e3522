export interface LatencyPercentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** Fixed-size ring of recent call latencies; percentiles by nearest rank over what it holds. */
export class LatencyRing {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly capacity = 256) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError('latency ring capacity must be a positive integer');
    }
  }

  get size(): number {
    return this.samples.length;
  }

  record(ms: number): void {
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
  }

  percentiles(): LatencyPercentiles {
    const sorted = [...this.samples].sort((a, b) => a - b);
    return { p50: rank(sorted, 0.5), p95: rank(sorted, 0.95), p99: rank(sorted, 0.99) };
  }
}

function rank(sorted: readonly number[], quantile: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.ceil(quantile * sorted.length) - 1)];
}
