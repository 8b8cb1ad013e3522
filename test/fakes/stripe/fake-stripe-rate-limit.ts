/** Token bucket over all requests: `perSec` tokens a second, bursts of up to `perSec`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt = Date.now();

  constructor(private perSec: number) {
    this.tokens = perSec;
  }

  setRate(perSec: number): void {
    this.perSec = perSec;
    this.tokens = Math.min(this.tokens, perSec);
  }

  /** Takes a token, or answers how many ms until one is free. */
  take(): { ok: true } | { ok: false; retryAfterMs: number } {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) / this.perSec) * 1000) };
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(
      this.perSec,
      this.tokens + ((now - this.updatedAt) / 1000) * this.perSec,
    );
    this.updatedAt = now;
  }
}
