import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '../../../libs/config/src';
import { MessagingModule } from '../../../libs/messaging/src';
import { ObservabilityModule } from '../../../libs/observability/src';
import { PersistenceModule } from '../../../libs/persistence/src';
import { PaymentsModule } from '../../../libs/payments/src';
import { PaymentCommandConsumer } from './payment-command.consumer';
import { processorAdaptersProvider } from './processor-adapters.provider';
import { ProcessorHealthPublisher } from './processor-health.publisher';

@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot('worker'),
        PersistenceModule,
        MessagingModule,
        PaymentsModule.forRoot(processorAdaptersProvider),
      ],
      providers: [PaymentCommandConsumer, ProcessorHealthPublisher],
    };
  }
}
