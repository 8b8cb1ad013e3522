import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import { LedgerBooks } from '../../../libs/ledger/src';
import { ExceptionMetricsSampler } from '../../../libs/ledger/src/reconciliation/exception-metrics';
import { ExceptionQueue } from '../../../libs/ledger/src/reconciliation/exception-queue';
import { ExceptionResolution } from '../../../libs/ledger/src/reconciliation/exception-resolution';
import { payoutReconciliation } from '../../../libs/ledger/src/reconciliation/payout-reconciliation';
import { ReconciliationEngine } from '../../../libs/ledger/src/reconciliation/reconciliation-engine';
import { ReconciliationSummaryQuery } from '../../../libs/ledger/src/reconciliation/summary-query';
import { PayoutReconciliationDto } from '../../../libs/ledger/src/reconciliation/exception-contract';
import { LOGGER, Logger, Metrics } from '../../../libs/observability/src';

/** `(payoutId) => the payout judged live by the engine, or null`: what `.payout` answers. */
export const PAYOUT_RECONCILIATION = Symbol('PAYOUT_RECONCILIATION');
export type PayoutReconciliationLookup = (
  payoutId: string,
) => Promise<PayoutReconciliationDto | null>;

/** The reconciliation operations side of the ledger: queries, resolutions, queue gauges. */
export const reconciliationOperationsProviders: Provider[] = [
  {
    provide: ReconciliationSummaryQuery,
    inject: [DataSource],
    useFactory: (ds: DataSource) => new ReconciliationSummaryQuery(ds),
  },
  {
    provide: ExceptionQueue,
    inject: [DataSource],
    useFactory: (ds: DataSource) => new ExceptionQueue(ds),
  },
  {
    provide: ExceptionResolution,
    inject: [DataSource, LedgerBooks, Metrics, LOGGER],
    useFactory: (ds: DataSource, books: LedgerBooks, metrics: Metrics, logger: Logger) =>
      new ExceptionResolution(ds, books, metrics, logger),
  },
  {
    // The engine's read-only preview (it writes nothing), on an instance of its own.
    provide: PAYOUT_RECONCILIATION,
    inject: [DataSource],
    useFactory: (ds: DataSource): PayoutReconciliationLookup => {
      const engine = new ReconciliationEngine(ds);
      return (payoutId) => payoutReconciliation(ds, engine, payoutId);
    },
  },
  {
    provide: ExceptionMetricsSampler,
    inject: [DataSource, Metrics, LOGGER, APP_CONFIG],
    useFactory: (ds: DataSource, metrics: Metrics, logger: Logger, config: AppConfig) =>
      new ExceptionMetricsSampler(
        ds,
        metrics,
        logger,
        config.ledger.reconciliationMetricsIntervalMs,
      ),
  },
];
