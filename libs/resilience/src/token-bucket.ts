/** Slack for floating-point refill arithmetic, so 0.9999999 tokens count as one. */
const EPSILON = 1e-9;

/**
 * Token bucket whose rate is supplied by the caller on every refill (it changes under AIMD).
 * `refilledAt` may lie in the future: while paused nothing accrues until then.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  available(now: number, ratePerSec: number): number {
    this.refill(now, ratePerSec);
    return this.tokens;
  }

  refill(now: number, ratePerSec: number): void {
    if (now <= this.refilledAt) return;
    this.tokens = Math.min(this.burst, this.tokens + (ratePerSec * (now - this.refilledAt)) / 1000);
    this.refilledAt = now;
  }

  tryTake(now: number, ratePerSec: number): boolean {
    this.refill(now, ratePerSec);
    if (this.tokens < 1 - EPSILON) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  /** Milliseconds from now until a whole token exists (0 if one does). */
  msUntilToken(now: number, ratePerSec: number): number {
    this.refill(now, ratePerSec);
    const startsIn = Math.max(0, this.refilledAt - now);
    const deficit = 1 - this.tokens;
    if (deficit <= EPSILON) return startsIn;
    return startsIn + Math.ceil((deficit * 1000) / ratePerSec);
  }

  /** Empties the bucket; nothing accrues before `until`. */
  drainUntil(until: number): void {
    this.tokens = 0;
    this.refilledAt = Math.max(this.refilledAt, until);
  }
}
