import { z } from 'zod';

const int = (def: number, min: number, max: number) =>
  z
    .string()
    .default(String(def))
    .transform((value, ctx) => {
      const n = Number(value);
      if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });

const fraction = (def: number) =>
  z
    .string()
    .default(String(def))
    .transform((value, ctx) => {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a number between 0 and 1' });
        return z.NEVER;
      }
      return n;
    });

const url = (def: string, protocols: string[]) =>
  z
    .string()
    .default(def)
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL with protocol ${protocols.join(' or ')}`,
    );

const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== '' ? value.trim() : undefined));

/** Every environment variable the services read, with its default (README lists them). */
export const configSchema = z.object({
  DATABASE_URL: url('postgres://postgres@127.0.0.1:5432/payments', ['postgres:', 'postgresql:']),
  DB_POOL_SIZE: int(20, 1, 200),
  // 'off' behind a transaction-pooling proxy (PgBouncer in transaction mode), which cannot keep
  // named prepared statements per session.
  DB_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),
  NATS_URL: url('nats://127.0.0.1:4222', ['nats:', 'tls:']),
  NATS_NAMESPACE: z
    .string()
    .default('')
    .refine((v) => /^[a-z0-9]*$/.test(v), 'must be lower-case letters and digits only'),
  PORT: int(3000, 0, 65535),
  WORKER_METRICS_PORT: int(9464, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SERVICES: z
    .string()
    .default('gateway,worker,ledger')
    .refine(
      (v) => v.split(',').every((s) => ['gateway', 'worker', 'ledger'].includes(s.trim())),
      'must be a comma-separated list of gateway, worker, ledger',
    ),
  GRAPHQL_MAX_DEPTH: int(8, 2, 50),
  GRAPHQL_MAX_COST: int(5000, 10, 1_000_000),
  API_KEY_CACHE_MS: int(5000, 0, 600_000),
  IDEMPOTENCY_TTL_HOURS: int(24, 24, 24 * 30),
  OUTBOX_BATCH_SIZE: int(256, 1, 5000),
  OUTBOX_POLL_MS: int(50, 5, 10_000),
  WORKER_CONCURRENCY: int(64, 1, 1024),
  WORKER_MAX_DELIVER: int(6, 2, 100),
  WORKER_ACK_WAIT_MS: int(30_000, 1000, 600_000),
  PROCESSOR_MAX_ATTEMPTS: int(3, 1, 10),
  PROCESSOR_TIMEOUT_MS: int(10_000, 100, 120_000),
  STATUS_SYNC_AFTER_MS: int(5000, 100, 3_600_000),
  JANITOR_INTERVAL_MS: int(2000, 100, 600_000),
  UNKNOWN_OUTCOME_FLAG_AFTER_MS: int(600_000, 1000, 7 * 86_400_000),
  SIMULATOR_LATENCY_MS: int(0, 0, 60_000),
  SIMULATOR_FAILURE_RATE: fraction(0),
  SIMULATOR_WEBHOOK_SECRET: optionalSecret,
  STRIPE_SECRET_KEY: optionalSecret,
  STRIPE_WEBHOOK_SECRET: optionalSecret,
  STRIPE_API_BASE: url('https://api.stripe.com', ['http:', 'https:']),
  STRIPE_TIMEOUT_MS: int(10_000, 100, 120_000),
  STRIPE_API_VERSION: optionalSecret,
  STRIPE_RETURN_URL: optionalSecret,
  STRIPE_RATE_LIMIT_PER_SEC: int(25, 1, 10_000),
  SIMULATOR_RATE_LIMIT_PER_SEC: int(5000, 1, 100_000),
  BREAKER_ERROR_THRESHOLD_PERCENT: int(50, 1, 100),
  BREAKER_MIN_VOLUME: int(10, 1, 10_000),
  BREAKER_WINDOW_MS: int(10_000, 1000, 600_000),
  BREAKER_RESET_MS: int(5000, 100, 600_000),
  PROCESSOR_MAX_IN_FLIGHT: int(64, 1, 10_000),
  CHECKOUT_MAX_WAIT_MS: int(2000, 10, 60_000),
  ROUTING_CONFIG: optionalSecret,
  LEDGER_BATCH_SIZE: int(2000, 1, 5000),
  LEDGER_BATCH_WAIT_MS: int(50, 1, 10_000),
  LEDGER_MAX_DELIVER: int(6, 2, 100),
  LEDGER_ACK_WAIT_MS: int(30_000, 1000, 600_000),
  LEDGER_QUERY_TIMEOUT_MS: int(5000, 100, 60_000),
  LEDGER_EXPORT_DIR: optionalSecret,
  LEDGER_EXPORT_MAPPING: optionalSecret,
  RECONCILIATION_METRICS_INTERVAL_MS: int(15_000, 1000, 3_600_000),
  RECONCILIATION_GRACE_MS: int(600_000, 0, 86_400_000),
  RECONCILIATION_PULL_INTERVAL_MS: int(0, 0, 86_400_000),
  RECONCILIATION_PULL_OVERLAP_MS: int(3_600_000, 0, 7 * 86_400_000),
  RECONCILIATION_PULL_LOOKBACK_MS: int(86_400_000, 60_000, 90 * 86_400_000),
  RECONCILIATION_BATCH_CONCURRENCY: int(2, 1, 16),
  RECONCILIATION_REALTIME_INTERVAL_MS: int(1000, 0, 60_000),
});

/** A Stripe key turns Stripe on; then it must be well-formed and webhooks must be verifiable. */
export const validatedConfigSchema = configSchema.superRefine((c, ctx) => {
  if (!c.STRIPE_SECRET_KEY) return;
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.test(c.STRIPE_SECRET_KEY)) {
    ctx.addIssue({
      code: 'custom',
      path: ['STRIPE_SECRET_KEY'],
      message: 'must look like sk_test_… or sk_live_… (value not shown)',
    });
  }
  if (!c.STRIPE_WEBHOOK_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['STRIPE_WEBHOOK_SECRET'],
      message: 'is required when STRIPE_SECRET_KEY is set',
    });
  }
});

export type RawConfig = z.output<typeof configSchema>;
