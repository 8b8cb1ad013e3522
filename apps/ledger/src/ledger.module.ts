import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import { AppConfig, ConfigModule } from '../../../libs/config/src';
import { LedgerBooks, LedgerQueries } from '../../../libs/ledger/src';
import { ObservabilityModule } from '../../../libs/observability/src';
import { PersistenceModule } from '../../../libs/persistence/src';
import { LedgerExportController } from './exports/ledger-export.controller';
import { ledgerExportProvider } from './exports/ledger-export.provider';
import { LedgerExportRecoveryJob } from './exports/ledger-export-recovery.job';
import { LedgerEventsConsumer } from './ledger-events.consumer';
import { LEDGER_NATS, ledgerNatsProviders } from './ledger-nats.provider';
import { LedgerQueryController } from './ledger-query.controller';
import { ReconciliationOperationsController } from './reconciliation-operations.controller';
import { reconciliationOperationsProviders } from './reconciliation-operations.providers';
import { reconciliationEngineProviders } from './reconciliation-engine.providers';

@Module({})
export class LedgerModule implements OnApplicationShutdown {
  constructor(@Inject(LEDGER_NATS) private readonly nc: NatsConnection) {}

  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LedgerModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot('ledger'),
        PersistenceModule,
      ],
      controllers: [
        LedgerQueryController,
        LedgerExportController,
        ReconciliationOperationsController,
      ],
      providers: [
        ...ledgerNatsProviders,
        {
          provide: LedgerBooks,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new LedgerBooks(ds),
        },
        {
          provide: LedgerQueries,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new LedgerQueries(ds),
        },
        LedgerEventsConsumer,
        ledgerExportProvider,
        LedgerExportRecoveryJob,
        ...reconciliationOperationsProviders,
        ...reconciliationEngineProviders,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
