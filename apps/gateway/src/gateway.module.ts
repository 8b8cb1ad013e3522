import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { AppConfig, ConfigModule, APP_CONFIG } from '../../../libs/config/src';
import { MessagingModule } from '../../../libs/messaging/src';
import { LOGGER, Logger, ObservabilityModule } from '../../../libs/observability/src';
import { PersistenceModule } from '../../../libs/persistence/src';
import {
  ApiKeyService,
  DisputeQueryService,
  MAX_PAGE_SIZE,
  PaymentQueryService,
  PaymentsModule,
} from '../../../libs/payments/src';
import { DisputesResolver } from './graphql/disputes.resolver';
import { graphqlErrorFormatter } from './graphql/error-formatter';
import { httpContext, subscriptionOnConnect } from './graphql/gateway-context';
import { LedgerExportResolver } from './graphql/ledger-export.resolver';
import { LedgerResolver, PaymentLedgerEntriesResolver } from './graphql/ledger.resolver';
import { GraphqlObservabilityInterceptor } from './graphql/observability.interceptor';
import { PaymentUpdatesBridge } from './graphql/payment-updates.bridge';
import { PaymentsErrorFilter } from './graphql/payments-error.filter';
import { PaymentsResolver } from './graphql/payments.resolver';
import { ProcessorHealthView } from './graphql/processor-health.view';
import { ProcessorsResolver } from './graphql/processors.resolver';
import { queryComplexityRule } from './graphql/query-complexity.rule';
import { ReconciliationResolver } from './graphql/reconciliation.resolver';
import { ScopesGuard } from './graphql/scopes.guard';
import { WebhooksResolver } from './graphql/webhooks.resolver';
import { HealthController } from './http/health.controller';
import { LedgerExportDownloadController } from './http/ledger-export.controller';
import { MetricsController } from './http/metrics.controller';
import { WebhooksController } from './http/webhooks.controller';
import { ledgerExportClientProvider } from './ledger-export-client.provider';
import { ledgerClientProvider } from './ledger-client.provider';
import { processorAdaptersProvider } from './processor-adapters.provider';
import { reconciliationClientProvider } from './reconciliation-client.provider';

@Module({})
export class GatewayModule {
  static forRoot(config: AppConfig): DynamicModule {
    const payments = PaymentsModule.forRoot(processorAdaptersProvider);
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot('gateway'),
        PersistenceModule,
        MessagingModule,
        payments,
        GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          imports: [payments],
          inject: [APP_CONFIG, ApiKeyService, PaymentQueryService, LOGGER, DisputeQueryService],
          useFactory: (
            c: AppConfig,
            apiKeys: ApiKeyService,
            query: PaymentQueryService,
            logger: Logger,
            disputes: DisputeQueryService,
          ) => ({
            autoSchemaFile: true,
            sortSchema: true,
            graphiql: false,
            path: '/graphql',
            context: httpContext(apiKeys, query, disputes),
            subscription: {
              onConnect: subscriptionOnConnect(apiKeys, query, disputes),
              keepAlive: 15_000,
            },
            errorFormatter: graphqlErrorFormatter(logger.child({ component: 'graphql' })),
            validationRules: [
              queryComplexityRule({
                maxDepth: c.graphql.maxDepth,
                maxCost: c.graphql.maxCost,
                maxPageSize: MAX_PAGE_SIZE,
                defaultPageSize: 20,
                nestedListSize: 3,
              }),
            ],
          }),
        }),
      ],
      controllers: [
        HealthController,
        MetricsController,
        WebhooksController,
        LedgerExportDownloadController,
      ],
      providers: [
        PaymentsResolver,
        DisputesResolver,
        PaymentUpdatesBridge,
        ProcessorsResolver,
        ProcessorHealthView,
        WebhooksResolver,
        ledgerClientProvider,
        LedgerResolver,
        PaymentLedgerEntriesResolver,
        ledgerExportClientProvider,
        LedgerExportResolver,
        reconciliationClientProvider,
        ReconciliationResolver,
        { provide: APP_GUARD, useClass: ScopesGuard },
        { provide: APP_FILTER, useClass: PaymentsErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: GraphqlObservabilityInterceptor },
      ],
    };
  }
}
