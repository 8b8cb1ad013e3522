import { LANE_TIER, RATE_LIMIT_LANES, RateLimitLane } from './rate-limit-lane';

export interface QueuedItem {
  readonly lane: RateLimitLane;
  /** Arrival order, unique and increasing. */
  readonly seq: number;
}

/**
 * Waiting requests per lane, served by this policy:
 * - strict priority by tier (CHECKOUT, then REFUND/OPERATOR, then BACKGROUND); FIFO within a
 *   lane, and by arrival across the two lanes of the shared tier;
 * - anti-starvation: when a lower tier has waiters and the top tier has been served
 *   `reservedEvery - 1` times in a row, the next grant goes to the oldest lower-tier waiter.
 *   With the default share of 5 % checkout keeps at least 19 of every 20 grants while it is
 *   queued, and a queued background request waits a bounded time even under saturation.
 *   A share of 0 gives pure strict priority.
 */
export class LaneQueue<T extends QueuedItem> {
  private readonly lanes = emptyLanes<T>();
  private readonly reservedEvery: number;
  private bypassed = 0;
  private count = 0;

  constructor(reservedShare: number) {
    if (!(reservedShare >= 0 && reservedShare < 1)) {
      throw new RangeError('reservedShare must be in [0, 1)');
    }
    this.reservedEvery =
      reservedShare === 0 ? Infinity : Math.max(2, Math.round(1 / reservedShare));
  }

  get size(): number {
    return this.count;
  }

  depth(): Record<RateLimitLane, number> {
    const depth = {} as Record<RateLimitLane, number>;
    for (const lane of RATE_LIMIT_LANES) depth[lane] = this.lanes[lane].length;
    return depth;
  }

  push(item: T): void {
    this.lanes[item.lane].push(item);
    this.count++;
  }

  remove(item: T): boolean {
    const queue = this.lanes[item.lane];
    const index = queue.indexOf(item);
    if (index < 0) return false;
    queue.splice(index, 1);
    this.count--;
    return true;
  }

  /** Removes and returns the next item to serve, or undefined when empty. */
  shift(): T | undefined {
    const heads = RATE_LIMIT_LANES.map((lane) => this.lanes[lane][0]).filter(isDefined);
    if (heads.length === 0) return undefined;
    const topTier = Math.min(...heads.map((head) => LANE_TIER[head.lane]));
    const lower = heads.filter((head) => LANE_TIER[head.lane] > topTier);
    if (lower.length === 0) {
      this.bypassed = 0;
      return this.take(oldest(heads));
    }
    if (this.bypassed + 1 >= this.reservedEvery) {
      this.bypassed = 0;
      return this.take(oldest(lower));
    }
    this.bypassed++;
    return this.take(oldest(heads.filter((head) => LANE_TIER[head.lane] === topTier)));
  }

  private take(item: T): T {
    this.lanes[item.lane].shift();
    this.count--;
    return item;
  }
}

function emptyLanes<T>(): Record<RateLimitLane, T[]> {
  return { CHECKOUT: [], REFUND: [], OPERATOR: [], BACKGROUND: [] };
}

function oldest<T extends QueuedItem>(items: readonly T[]): T {
  return items.reduce((a, b) => (b.seq < a.seq ? b : a));
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
