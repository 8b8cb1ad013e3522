import {
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Provider,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createProcessorAdapters } from '../../../adapters/registry';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import {
  BalanceTransactionIngest,
  BalanceTransactionPuller,
  RealtimeReconciler,
  ReconciliationEngine,
} from '../../../libs/ledger/src/reconciliation';
import { LOGGER, Logger, Metrics } from '../../../libs/observability/src';

/** Starts the scheduled balance-transaction pull (RECONCILIATION_PULL_INTERVAL_MS; 0 = off). */
@Injectable()
export class ReconciliationPullJob implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly puller: BalanceTransactionPuller) {}

  onApplicationBootstrap(): void {
    this.puller.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.puller.stop();
  }
}

/** The reconciliation engine of apps/ledger: real time after each booked batch, and the pull. */
export const reconciliationEngineProviders: Provider[] = [
  {
    provide: ReconciliationEngine,
    inject: [DataSource, APP_CONFIG, Metrics, LOGGER],
    useFactory: (ds: DataSource, config: AppConfig, metrics: Metrics, logger: Logger) =>
      new ReconciliationEngine(ds, {
        graceMs: config.ledger.reconciliation.graceMs,
        metrics,
        logger: logger.child({ component: 'reconciliation' }),
      }),
  },
  {
    provide: BalanceTransactionIngest,
    inject: [DataSource, ReconciliationEngine],
    useFactory: (ds: DataSource, engine: ReconciliationEngine) =>
      new BalanceTransactionIngest(ds, engine),
  },
  {
    provide: RealtimeReconciler,
    inject: [APP_CONFIG, ReconciliationEngine, LOGGER, Metrics, BalanceTransactionIngest],
    useFactory: (
      config: AppConfig,
      engine: ReconciliationEngine,
      logger: Logger,
      metrics: Metrics,
      ingest: BalanceTransactionIngest,
    ) =>
      // Webhook-delivered balance transactions (on payment events) are stored after the commit.
      new RealtimeReconciler(
        engine,
        logger.child({ component: 'reconciliation' }),
        metrics,
        ingest,
        config.ledger.reconciliation.realtimeIntervalMs,
      ),
  },
  {
    provide: BalanceTransactionPuller,
    inject: [APP_CONFIG, DataSource, BalanceTransactionIngest, LOGGER, Metrics],
    useFactory: (
      config: AppConfig,
      ds: DataSource,
      ingest: BalanceTransactionIngest,
      logger: Logger,
      metrics: Metrics,
    ) => {
      const { reconciliation } = config.ledger;
      // The pull is one background caller: the adapters as they are, no resilience stack.
      const adapters =
        reconciliation.pullIntervalMs > 0
          ? createProcessorAdapters({ simulator: config.simulator, stripe: config.stripe, sql: ds })
          : [];
      return new BalanceTransactionPuller(
        adapters,
        ingest,
        {
          intervalMs: reconciliation.pullIntervalMs,
          overlapMs: reconciliation.pullOverlapMs,
          lookbackMs: reconciliation.pullLookbackMs,
        },
        logger.child({ component: 'reconciliation-pull' }),
        metrics,
      );
    },
  },
  ReconciliationPullJob,
];
