export interface AdaptiveRateOptions {
  readonly maxRatePerSec: number;
  readonly minRatePerSec: number;
  /** Multiplicative decrease on a 429. */
  readonly decreaseFactor?: number;
  /** Additive increase per second of successes, as a fraction of the max rate. */
  readonly increasePerSecond?: number;
  /** A burst of 429s from calls already in flight counts as one signal. */
  readonly decreaseCooldownMs?: number;
}

/**
 * AIMD rate: halve on a 429, then add 2 % of the max per second of successes, so recovery
 * from half rate takes ~25 s. Increases start only once the Retry-After pause is over.
 */
export class AdaptiveRate {
  private rate: number;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private increasedAt = Number.NEGATIVE_INFINITY;
  private readonly decreaseFactor: number;
  private readonly increasePerSecond: number;
  private readonly decreaseCooldownMs: number;

  constructor(private readonly options: AdaptiveRateOptions) {
    if (!(options.minRatePerSec > 0) || options.minRatePerSec > options.maxRatePerSec) {
      throw new RangeError('rates must satisfy 0 < minRatePerSec <= ratePerSec');
    }
    this.rate = options.maxRatePerSec;
    this.decreaseFactor = options.decreaseFactor ?? 0.5;
    this.increasePerSecond = options.increasePerSecond ?? 0.02;
    this.decreaseCooldownMs = options.decreaseCooldownMs ?? 1_000;
  }

  get current(): number {
    return this.rate;
  }

  /** Returns whether the rate was lowered (false inside the cooldown). */
  decrease(now: number, increasesFrom: number): boolean {
    this.increasedAt = Math.max(this.increasedAt, increasesFrom);
    if (now - this.lastDecreaseAt < this.decreaseCooldownMs) return false;
    this.lastDecreaseAt = now;
    this.rate = Math.max(this.options.minRatePerSec, this.rate * this.decreaseFactor);
    return true;
  }

  increase(now: number): void {
    if (this.rate >= this.options.maxRatePerSec || now <= this.increasedAt) return;
    // Capped at one second: sparse successes after an idle spell earn one step, not a jump.
    const seconds = Math.min(now - this.increasedAt, 1_000) / 1_000;
    const step = this.options.maxRatePerSec * this.increasePerSecond * seconds;
    this.rate = Math.min(this.options.maxRatePerSec, this.rate + step);
    this.increasedAt = now;
  }
}
