import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PROCESSOR_ADAPTERS, ProcessorAdapter, Subjects } from '../../contracts/src';
import { APP_CONFIG, AppConfig } from '../../config/src';
import { OutboxRelay } from '../../messaging/src';
import { LOGGER, Logger, Metrics } from '../../observability/src';
import { ApiKeyService } from './api-keys/api-key.service';
import { DisputeQueryService } from './disputes/dispute-query.service';
import { IdempotencyStore } from './idempotency/idempotency.store';
import { PaymentIntakeService } from './intake/payment-intake.service';
import { PaymentCommandHandler } from './processing/payment-command.handler';
import { PaymentJanitor } from './processing/payment-janitor';
import { ProcessorControlService } from './processor-controls/processor-control.service';
import { PaymentQueryService } from './queries/payment-query.service';
import { PaymentMethodService } from './payment-methods/payment-method.service';
import { ProcessorRouter } from './routing/processor-router';
import { loadRoutingRules } from './routing/routing-rules';
import { WebhookApplicationService } from './webhooks/webhook-application.service';
import { WebhookEventService } from './webhooks/webhook-event.service';
import { WebhookIntakeService } from './webhooks/webhook-intake.service';
import { BalanceTransactionLookup, balanceTransactionSnapshot } from './webhooks/learned-fee';

/** The payments services, built from the global config, database, NATS and the given adapters. */
@Module({})
export class PaymentsModule {
  static forRoot(adapters: Provider): DynamicModule {
    const providers: Provider[] = [
      adapters,
      {
        provide: ProcessorRouter,
        inject: [PROCESSOR_ADAPTERS, APP_CONFIG],
        useFactory: (list: ProcessorAdapter[], c: AppConfig) => {
          const names = list.map((a) => a.name);
          return new ProcessorRouter(
            list,
            c.routingConfigPath ? loadRoutingRules(c.routingConfigPath, names) : undefined,
          );
        },
      },
      {
        provide: PaymentMethodService,
        inject: [DataSource, IdempotencyStore, ProcessorRouter],
        useFactory: (ds: DataSource, idem: IdempotencyStore, router: ProcessorRouter) =>
          new PaymentMethodService(ds, idem, router),
      },
      {
        provide: ApiKeyService,
        inject: [DataSource, APP_CONFIG],
        useFactory: (ds: DataSource, c: AppConfig) => new ApiKeyService(ds, c.apiKeyCacheMs),
      },
      {
        provide: IdempotencyStore,
        inject: [DataSource, APP_CONFIG],
        useFactory: (ds: DataSource, c: AppConfig) =>
          new IdempotencyStore(ds, c.idempotencyTtlHours),
      },
      {
        provide: PaymentIntakeService,
        inject: [
          DataSource,
          IdempotencyStore,
          ProcessorRouter,
          PaymentMethodService,
          Subjects,
          Metrics,
          APP_CONFIG,
          OutboxRelay,
        ],
        useFactory: (
          ds: DataSource,
          idem: IdempotencyStore,
          router: ProcessorRouter,
          paymentMethods: PaymentMethodService,
          subjects: Subjects,
          metrics: Metrics,
          c: AppConfig,
          relay: OutboxRelay,
        ) =>
          new PaymentIntakeService(
            ds,
            idem,
            router,
            paymentMethods,
            subjects,
            metrics,
            c.idempotencyTtlHours,
            () => relay.nudge(),
          ),
      },
      {
        provide: ProcessorControlService,
        inject: [DataSource, ProcessorRouter],
        useFactory: (ds: DataSource, router: ProcessorRouter) =>
          new ProcessorControlService(ds, router),
      },
      {
        provide: PaymentQueryService,
        inject: [DataSource],
        useFactory: (ds: DataSource) => new PaymentQueryService(ds),
      },
      {
        provide: DisputeQueryService,
        inject: [DataSource],
        useFactory: (ds: DataSource) => new DisputeQueryService(ds),
      },
      {
        provide: WebhookIntakeService,
        inject: [DataSource, ProcessorRouter, Subjects, Metrics, LOGGER, OutboxRelay],
        useFactory: (
          ds: DataSource,
          router: ProcessorRouter,
          subjects: Subjects,
          metrics: Metrics,
          logger: Logger,
          relay: OutboxRelay,
        ) =>
          new WebhookIntakeService(
            ds,
            router,
            subjects,
            metrics,
            logger.child({ component: 'webhook-intake' }),
            () => relay.nudge(),
          ),
      },
      {
        provide: WebhookApplicationService,
        inject: [DataSource, Subjects, Metrics, LOGGER, OutboxRelay, PROCESSOR_ADAPTERS],
        useFactory: (
          ds: DataSource,
          subjects: Subjects,
          metrics: Metrics,
          logger: Logger,
          relay: OutboxRelay,
          list: ProcessorAdapter[],
        ) =>
          new WebhookApplicationService(
            ds,
            subjects,
            metrics,
            logger.child({ component: 'webhooks' }),
            () => relay.nudge(),
            balanceTransactionLookup(list),
          ),
      },
      {
        provide: WebhookEventService,
        inject: [DataSource, Subjects, OutboxRelay],
        useFactory: (ds: DataSource, subjects: Subjects, relay: OutboxRelay) =>
          new WebhookEventService(ds, subjects, () => relay.nudge()),
      },
      {
        provide: PaymentCommandHandler,
        inject: [
          DataSource,
          ProcessorRouter,
          Subjects,
          Metrics,
          LOGGER,
          APP_CONFIG,
          OutboxRelay,
          WebhookApplicationService,
        ],
        useFactory: (
          ds: DataSource,
          router: ProcessorRouter,
          subjects: Subjects,
          metrics: Metrics,
          logger: Logger,
          c: AppConfig,
          relay: OutboxRelay,
          webhooks: WebhookApplicationService,
        ) =>
          new PaymentCommandHandler(
            ds,
            router,
            subjects,
            metrics,
            logger.child({ component: 'payment-commands' }),
            {
              maxAttempts: c.worker.processorMaxAttempts,
              processorTimeoutMs: c.worker.processorTimeoutMs,
              unknownOutcomeRetryMs: c.worker.statusSyncAfterMs,
            },
            () => relay.nudge(),
            (name) => router.adapter(name).available?.() ?? true,
            webhooks,
          ),
      },
      {
        provide: PaymentJanitor,
        inject: [DataSource, Subjects, Metrics, LOGGER, APP_CONFIG, OutboxRelay],
        useFactory: (
          ds: DataSource,
          subjects: Subjects,
          metrics: Metrics,
          logger: Logger,
          c: AppConfig,
          relay: OutboxRelay,
        ) =>
          new PaymentJanitor(ds, subjects, metrics, logger.child({ component: 'janitor' }), {
            staleAfterMs: Math.max(30_000, c.worker.statusSyncAfterMs * 6),
            intervalMs: c.worker.janitorIntervalMs,
            flagUnknownAfterMs: c.worker.unknownOutcomeFlagAfterMs,
            outboxWritten: () => relay.nudge(),
          }),
      },
    ];
    return {
      module: PaymentsModule,
      providers,
      exports: providers
        .filter((p): p is Exclude<Provider, Type> => typeof p !== 'function')
        .map((p) => p.provide),
    };
  }
}

/** Balance transactions by processor name, from the adapters that can retrieve one. */
function balanceTransactionLookup(list: readonly ProcessorAdapter[]): BalanceTransactionLookup {
  const byName = new Map(list.map((a) => [a.name, a]));
  return async (processor, id) => {
    const found = await byName.get(processor)?.retrieveBalanceTransaction?.(id);
    return found ? balanceTransactionSnapshot(found) : null;
  };
}
