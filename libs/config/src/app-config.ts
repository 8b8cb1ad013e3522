import { validatedConfigSchema } from './config.schema';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The typed configuration, validated once at boot. Nothing else reads process.env. */
export interface AppConfig {
  readonly databaseUrl: string;
  readonly dbPoolSize: number;
  /** Hot-path statements prepared once per connection (libs/persistence). */
  readonly dbPreparedStatements: boolean;
  readonly natsUrl: string;
  readonly natsNamespace: string;
  readonly port: number;
  /** A worker running on its own serves GET /metrics and /healthz here (0: off). */
  readonly workerMetricsPort: number;
  readonly host: string;
  readonly logLevel: string;
  readonly services: readonly ('gateway' | 'worker' | 'ledger')[];
  readonly graphql: { readonly maxDepth: number; readonly maxCost: number };
  readonly apiKeyCacheMs: number;
  readonly idempotencyTtlHours: number;
  readonly outbox: { readonly batchSize: number; readonly pollMs: number };
  readonly worker: {
    readonly concurrency: number;
    readonly maxDeliver: number;
    readonly ackWaitMs: number;
    readonly processorMaxAttempts: number;
    readonly processorTimeoutMs: number;
    readonly statusSyncAfterMs: number;
    readonly janitorIntervalMs: number;
    readonly unknownOutcomeFlagAfterMs: number;
  };
  readonly simulator: {
    readonly latencyMs: number;
    readonly failureRate: number;
    readonly webhookSecret?: string;
  };
  readonly stripe: {
    readonly secretKey?: string;
    readonly webhookSecrets: readonly string[];
    readonly apiBase: string;
    readonly timeoutMs: number;
    readonly apiVersion?: string;
    readonly returnUrl?: string;
  };
  readonly resilience: {
    readonly rateLimitPerSec: Readonly<Record<string, number>>;
    readonly breaker: {
      readonly errorThresholdPercentage: number;
      readonly volumeThreshold: number;
      readonly rollingCountTimeoutMs: number;
      readonly resetTimeoutMs: number;
    };
    readonly maxInFlight: number;
    readonly checkoutMaxWaitMs: number;
  };
  readonly routingConfigPath?: string;
  readonly ledger: {
    /** Events booked per transaction, at most; a partial batch waits `batchWaitMs`. */
    readonly batchSize: number;
    readonly batchWaitMs: number;
    readonly maxDeliver: number;
    readonly ackWaitMs: number;
    /** How long the gateway waits for a ledger query's answer. */
    readonly queryTimeoutMs: number;
    /** Where journal exports are written (default: <tmpdir>/ledger-exports). */
    readonly exportDir?: string;
    /** JSON file mapping ledger accounts to ERP accounts (default: the built-in mapping). */
    readonly exportMappingPath?: string;
    /** How often the open reconciliation exceptions are sampled into gauges. */
    readonly reconciliationMetricsIntervalMs: number;
    /** Reconciliation engine (libs/ledger/src/reconciliation): see README, configuration. */
    readonly reconciliation: {
      /** A non-matched result younger than this is not an exception yet. */
      readonly graceMs: number;
      /** Scheduled balance-transaction pull every … ms; 0 = off. */
      readonly pullIntervalMs: number;
      /** Each pull starts this long before the previous one's end (late transactions). */
      readonly pullOverlapMs: number;
      /** The first pull of a process looks back this far. */
      readonly pullLookbackMs: number;
      /** Transactions reconciling one batch window side by side (disjoint shares). */
      readonly batchConcurrency: number;
      /** At most one real-time pass per … ms; what is booked meanwhile joins the next pass. */
      readonly realtimeIntervalMs: number;
    };
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = validatedConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const c = parsed.data;
  return {
    databaseUrl: c.DATABASE_URL,
    dbPoolSize: c.DB_POOL_SIZE,
    dbPreparedStatements: c.DB_PREPARED_STATEMENTS === 'on',
    natsUrl: c.NATS_URL,
    natsNamespace: c.NATS_NAMESPACE,
    port: c.PORT,
    workerMetricsPort: c.WORKER_METRICS_PORT,
    host: c.HOST,
    logLevel: c.LOG_LEVEL,
    services: c.SERVICES.split(',').map((s) => s.trim() as 'gateway' | 'worker' | 'ledger'),
    graphql: { maxDepth: c.GRAPHQL_MAX_DEPTH, maxCost: c.GRAPHQL_MAX_COST },
    apiKeyCacheMs: c.API_KEY_CACHE_MS,
    idempotencyTtlHours: c.IDEMPOTENCY_TTL_HOURS,
    outbox: { batchSize: c.OUTBOX_BATCH_SIZE, pollMs: c.OUTBOX_POLL_MS },
    worker: {
      concurrency: c.WORKER_CONCURRENCY,
      maxDeliver: c.WORKER_MAX_DELIVER,
      ackWaitMs: c.WORKER_ACK_WAIT_MS,
      processorMaxAttempts: c.PROCESSOR_MAX_ATTEMPTS,
      processorTimeoutMs: c.PROCESSOR_TIMEOUT_MS,
      statusSyncAfterMs: c.STATUS_SYNC_AFTER_MS,
      janitorIntervalMs: c.JANITOR_INTERVAL_MS,
      unknownOutcomeFlagAfterMs: c.UNKNOWN_OUTCOME_FLAG_AFTER_MS,
    },
    simulator: {
      latencyMs: c.SIMULATOR_LATENCY_MS,
      failureRate: c.SIMULATOR_FAILURE_RATE,
      webhookSecret: c.SIMULATOR_WEBHOOK_SECRET,
    },
    stripe: {
      secretKey: c.STRIPE_SECRET_KEY,
      webhookSecrets: (c.STRIPE_WEBHOOK_SECRET ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      apiBase: c.STRIPE_API_BASE,
      timeoutMs: c.STRIPE_TIMEOUT_MS,
      apiVersion: c.STRIPE_API_VERSION,
      returnUrl: c.STRIPE_RETURN_URL,
    },
    resilience: {
      rateLimitPerSec: {
        stripe: c.STRIPE_RATE_LIMIT_PER_SEC,
        simulator: c.SIMULATOR_RATE_LIMIT_PER_SEC,
      },
      breaker: {
        errorThresholdPercentage: c.BREAKER_ERROR_THRESHOLD_PERCENT,
        volumeThreshold: c.BREAKER_MIN_VOLUME,
        rollingCountTimeoutMs: c.BREAKER_WINDOW_MS,
        resetTimeoutMs: c.BREAKER_RESET_MS,
      },
      maxInFlight: c.PROCESSOR_MAX_IN_FLIGHT,
      checkoutMaxWaitMs: c.CHECKOUT_MAX_WAIT_MS,
    },
    routingConfigPath: c.ROUTING_CONFIG,
    ledger: {
      batchSize: c.LEDGER_BATCH_SIZE,
      batchWaitMs: c.LEDGER_BATCH_WAIT_MS,
      maxDeliver: c.LEDGER_MAX_DELIVER,
      ackWaitMs: c.LEDGER_ACK_WAIT_MS,
      queryTimeoutMs: c.LEDGER_QUERY_TIMEOUT_MS,
      exportDir: c.LEDGER_EXPORT_DIR,
      exportMappingPath: c.LEDGER_EXPORT_MAPPING,
      reconciliationMetricsIntervalMs: c.RECONCILIATION_METRICS_INTERVAL_MS,
      reconciliation: {
        graceMs: c.RECONCILIATION_GRACE_MS,
        pullIntervalMs: c.RECONCILIATION_PULL_INTERVAL_MS,
        pullOverlapMs: c.RECONCILIATION_PULL_OVERLAP_MS,
        pullLookbackMs: c.RECONCILIATION_PULL_LOOKBACK_MS,
        batchConcurrency: c.RECONCILIATION_BATCH_CONCURRENCY,
        realtimeIntervalMs: c.RECONCILIATION_REALTIME_INTERVAL_MS,
      },
    },
  };
}

/** Nest injection token for AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
