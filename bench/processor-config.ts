// Settings and targets of the processor benchmarks (Stripe rate limit, failover), from the
// environment like the rest of bench/config.ts (see docs/benchmarks.md, "Processors").

export interface ProcessorBenchConfig {
  /** Seconds of offered load in the rate-limit benchmark. */
  readonly rlDurationS: number;
  /** Offered payments/s in the rate-limit benchmark (half CHECKOUT, half BACKGROUND). */
  readonly rlOfferedRate: number;
  /** Requests/s the fake Stripe allows, and STRIPE_RATE_LIMIT_PER_SEC of the worker. */
  readonly rlStripeLimit: number;
  /** Offered payments/s (gpm_) in the failover benchmark. */
  readonly foRate: number;
  /** Seconds of load on a healthy Stripe before the outage. */
  readonly foSteadyS: number;
  /** Seconds the fake Stripe is down. */
  readonly foOutageS: number;
  /** Longest wait after the outage for a new payment to go to Stripe again. */
  readonly foRecoveryTimeoutS: number;
}

export function loadProcessorBenchConfig(
  positive: (name: string, fallback: number) => number,
): ProcessorBenchConfig {
  return {
    rlDurationS: positive('BENCH_RL_DURATION_S', 30),
    rlOfferedRate: positive('BENCH_RL_RATE', 300),
    rlStripeLimit: Math.round(positive('BENCH_RL_STRIPE_LIMIT', 100)),
    foRate: positive('BENCH_FO_RATE', 50),
    foSteadyS: positive('BENCH_FO_STEADY_S', 5),
    foOutageS: positive('BENCH_FO_OUTAGE_S', 10),
    foRecoveryTimeoutS: positive('BENCH_FO_RECOVERY_TIMEOUT_S', 45),
  };
}

export const PROCESSOR_TARGETS = {
  /** Successful PaymentIntent creations/s at the fake ÷ its limit, steady part. */
  rlUtilisation: 0.95,
  /** 429 answers ÷ all requests the fake received. */
  rl429Share: 0.005,
  /** CHECKOUT attempts: claimed (attempt row) → request received by the fake, p99. */
  rlCheckoutWaitP99Ms: 200,
  /** Payments created after the outage began → SUCCEEDED on the simulator (first and p50). */
  foFailoverMs: 2000,
  /** Outage cleared → a new payment SUCCEEDED on Stripe. */
  foRecoveryMs: 30_000,
} as const;
