// Benchmark settings, all from the environment (see docs/benchmarks.md).
import { ProcessorBenchConfig, loadProcessorBenchConfig } from './processor-config';

export interface BenchConfig {
  /** Seconds of every measured phase. */
  readonly durationS: number;
  /** Interleaved rounds the baseline/gateway comparison is split into (durationS in all). */
  readonly rounds: number;
  /** Seconds of unmeasured load before each closed-loop phase (JIT, pools, caches). */
  readonly warmupS: number;
  /** Connections of the closed-loop intake phases (product and baseline alike). */
  readonly connections: number;
  /** Connections of the end-to-end saturation phase. */
  readonly e2eConnections: number;
  /** Offered rate of the end-to-end latency phase, payments per second. */
  readonly e2eRate: number;
  /** Fraction of the measured product maximum offered in the intake latency phase. */
  readonly intakeRateFraction: number;
  /** Seconds to wait for every accepted payment to become final. */
  readonly drainTimeoutS: number;
  /** Pool size of the gateway (DB_POOL_SIZE) and of the baseline server. */
  readonly poolSize: number;
  /** Which benchmarks to run. */
  readonly only:
    'all' | 'intake' | 'e2e' | 'processors' | 'webhooks' | 'ledger' | 'reconciliation' | 'export';
  /** Processor benchmarks (Stripe rate limit, failover): see bench/processor-config.ts. */
  readonly processors: ProcessorBenchConfig;
  readonly adminDatabaseUrl: string;
  readonly natsUrl: string;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

function only(env: NodeJS.ProcessEnv): BenchConfig['only'] {
  const value = env.BENCH_ONLY ?? 'all';
  if (
    value !== 'all' &&
    value !== 'intake' &&
    value !== 'e2e' &&
    value !== 'processors' &&
    value !== 'webhooks' &&
    value !== 'ledger' &&
    value !== 'reconciliation' &&
    value !== 'export'
  ) {
    throw new Error(
      'BENCH_ONLY must be all, intake, e2e, processors, webhooks, ledger, reconciliation or export',
    );
  }
  return value;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  return {
    durationS: positive(env, 'BENCH_DURATION_S', 20),
    warmupS: positive(env, 'BENCH_WARMUP_S', 3),
    rounds: Math.round(positive(env, 'BENCH_ROUNDS', 2)),
    connections: Math.round(positive(env, 'BENCH_CONNECTIONS', 32)),
    e2eConnections: Math.round(positive(env, 'BENCH_E2E_CONNECTIONS', 64)),
    e2eRate: positive(env, 'BENCH_E2E_RATE', 500),
    intakeRateFraction: positive(env, 'BENCH_INTAKE_RATE_FRACTION', 0.7),
    drainTimeoutS: positive(env, 'BENCH_DRAIN_TIMEOUT_S', 45),
    poolSize: Math.round(positive(env, 'BENCH_DB_POOL_SIZE', 20)),
    only: only(env),
    processors: loadProcessorBenchConfig((name, fallback) => positive(env, name, fallback)),
    adminDatabaseUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
  };
}

/** The targets the results are judged against. */
export const TARGETS = {
  intakeRatio: 0.4,
  intakeP99AtRateMs: 50,
  e2eCompletionsPerS: 1000,
  e2eP99AtRateMs: 250,
} as const;
