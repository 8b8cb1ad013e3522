import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Every metric the services export on GET /metrics, created once per process. */
export class Metrics {
  readonly registry = new Registry();

  readonly graphqlDuration = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'GraphQL root field latency by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly paymentsAccepted = new Counter({
    name: 'payments_accepted_total',
    help: 'Payments accepted by createPayment (replays not counted)',
    labelNames: ['currency'] as const,
    registers: [this.registry],
  });

  readonly paymentsByStatus = new Gauge({
    name: 'payments_by_status',
    help: 'Payments per status (sampled from the database)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly outboxLag = new Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest unpublished outbox message',
    registers: [this.registry],
  });

  readonly outboxPublished = new Counter({
    name: 'outbox_published_total',
    help: 'Outbox messages published to JetStream',
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'jetstream_consumer_pending_messages',
    help: 'Messages not yet delivered plus not yet acknowledged, per durable consumer',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  readonly commandsHandled = new Counter({
    name: 'worker_commands_total',
    help: 'Payment commands handled by the worker, by type and result',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });

  readonly deadLettered = new Counter({
    name: 'messages_dead_lettered_total',
    help: 'Messages moved to the dead-letter stream, by subject',
    labelNames: ['subject'] as const,
    registers: [this.registry],
  });

  readonly processorCallDuration = new Histogram({
    name: 'processor_call_duration_seconds',
    help: 'Processor call latency by processor, operation and outcome',
    labelNames: ['processor', 'operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly paymentOutcomes = new Counter({
    name: 'payment_outcomes_total',
    help: 'Final or action-needed payment outcomes by processor and status (decline rate)',
    labelNames: ['processor', 'status'] as const,
    registers: [this.registry],
  });

  readonly paymentsNeedingOperator = new Gauge({
    name: 'payments_needing_operator',
    help: 'Payments whose processor outcome stayed unknown through the whole status-sync schedule',
    registers: [this.registry],
  });

  readonly webhookEventsReceived = new Counter({
    name: 'webhook_events_received_total',
    help: 'Verified processor webhooks stored (duplicates not counted)',
    labelNames: ['processor', 'type'] as const,
    registers: [this.registry],
  });

  readonly webhookEventsRejected = new Counter({
    name: 'webhook_events_rejected_total',
    help: 'Processor webhooks refused at intake (bad signature, stale, malformed), by reason',
    labelNames: ['processor', 'reason'] as const,
    registers: [this.registry],
  });

  readonly webhookEventsApplied = new Counter({
    name: 'webhook_events_applied_total',
    help: 'Stored webhooks the worker applied, by result (applied, ignored, orphan, failed)',
    labelNames: ['processor', 'type', 'result'] as const,
    registers: [this.registry],
  });

  /** Items per group-commit batch (one statement or transaction), per writer. */
  readonly groupCommitBatchSize = new Histogram({
    name: 'group_commit_batch_size',
    help: 'Items written by one group-commit statement or transaction, per writer',
    labelNames: ['writer'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  readonly webhookLag = new Histogram({
    name: 'webhook_lag_seconds',
    help: 'Processor event time to applied, per processor',
    labelNames: ['processor'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly webhookFeeLookups = new Counter({
    name: 'webhook_fee_lookups_total',
    help: 'Balance transactions fetched from the processor for a charge whose event named it without its fee, by result (found, unknown, failed)',
    labelNames: ['processor', 'result'] as const,
    registers: [this.registry],
  });

  readonly webhookOrphans = new Counter({
    name: 'webhook_orphans_total',
    help: 'Webhooks about a payment or refund unknown to us (kept for operators)',
    labelNames: ['processor'] as const,
    registers: [this.registry],
  });

  readonly ledgerLag = new Histogram({
    name: 'ledger_booking_lag_seconds',
    help: 'Ledger lag: event published to its stream (JetStream time) to its batch committed, per durable consumer',
    labelNames: ['consumer'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly ledgerEventAge = new Histogram({
    name: 'ledger_event_age_seconds',
    help: 'Event occurredAt (business time) to its entries committed, per durable consumer',
    labelNames: ['consumer'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400],
    registers: [this.registry],
  });

  readonly disputesOpen = new Gauge({
    name: 'disputes_open',
    help: 'Disputes not yet closed, won or lost (sampled from the database)',
    registers: [this.registry],
  });

  readonly reconciliationOpenExceptions = new Gauge({
    name: 'reconciliation_open_exceptions',
    help: 'Open reconciliation exceptions by type and age bucket (sampled from the database)',
    labelNames: ['type', 'age_bucket'] as const,
    registers: [this.registry],
  });

  readonly reconciliationAmountAtStake = new Gauge({
    name: 'reconciliation_amount_at_stake',
    help: 'Amount at stake of open reconciliation exceptions, minor units per currency (sampled)',
    labelNames: ['currency'] as const,
    registers: [this.registry],
  });

  readonly reconciliationExceptionsResolved = new Counter({
    name: 'reconciliation_exceptions_resolved_total',
    help: 'Reconciliation exceptions closed by an operator, by resolution (resolved, ignored)',
    labelNames: ['resolution'] as const,
    registers: [this.registry],
  });

  constructor(collectDefaults = true) {
    if (collectDefaults) collectDefaultMetrics({ register: this.registry });
  }

  // Reconciliation engine (libs/ledger/src/reconciliation; the exception gauges are beside it).
  readonly reconciliationItems = new Counter({
    name: 'reconciliation_items_total',
    help: 'Items judged by reconciliation passes, by status and mode (realtime, batch)',
    labelNames: ['status', 'mode'] as const,
    registers: [this.registry],
  });

  readonly reconciliationPassDuration = new Histogram({
    name: 'reconciliation_run_duration_seconds',
    help: 'Duration of a reconciliation pass (realtime) or batch run, in seconds',
    labelNames: ['mode'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly ledgerExportsRecovered = new Counter({
    name: 'ledger_exports_recovered_total',
    help: 'Exports a recovery sweep queued again (interrupted or never run) or failed (interrupted too often)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly reconciliationPullFailures = new Counter({
    name: 'reconciliation_pull_failures_total',
    help: 'Scheduled balance-transaction pulls that failed, by processor',
    labelNames: ['processor'] as const,
    registers: [this.registry],
  });

  readonly reconciliationLastSuccess = new Gauge({
    name: 'reconciliation_last_successful_run_timestamp_seconds',
    help: 'Unix time of the last successful reconciliation, by mode (batch, pull)',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });
}
