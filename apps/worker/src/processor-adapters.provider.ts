import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PROCESSOR_ADAPTERS } from '../../../libs/contracts/src';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import { Metrics } from '../../../libs/observability/src';
import {
  ResilientProcessor,
  bindResilienceMetrics,
  registerResilienceMetrics,
} from '../../../libs/resilience/src';
import { createProcessorAdapters } from '../../../adapters/registry';
import { SIMULATOR_HOT_STATEMENTS } from '../../../adapters/simulator/src';
import { preparedSql } from '../../../libs/persistence/src';

// The simulated processor's own statements run on our pool: prepared like our hot path.
SIMULATOR_HOT_STATEMENTS.forEach((statement) => preparedSql(statement));

/** Every adapter behind its own limiter → bulkhead → breaker → timeout stack (DESIGN.md §6). */
export const processorAdaptersProvider: Provider = {
  provide: PROCESSOR_ADAPTERS,
  inject: [APP_CONFIG, DataSource, Metrics],
  useFactory: (config: AppConfig, dataSource: DataSource, metrics: Metrics) => {
    const resilienceMetrics = registerResilienceMetrics(metrics.registry);
    const { resilience, worker } = config;
    return createProcessorAdapters({
      simulator: config.simulator,
      stripe: config.stripe,
      sql: dataSource,
    }).map((adapter) => {
      const rate = resilience.rateLimitPerSec[adapter.name] ?? 100;
      const timeout = worker.processorTimeoutMs;
      const processor = new ResilientProcessor(adapter, {
        timeoutsMs: {
          authorize: timeout,
          capture: timeout,
          cancel: timeout,
          refund: timeout,
          retrieve: timeout,
        },
        limiter: {
          ratePerSec: rate,
          burst: Math.max(1, Math.ceil(rate / 5)),
          minRatePerSec: Math.max(1, rate / 10),
        },
        bulkhead: { maxConcurrent: resilience.maxInFlight, maxQueue: resilience.maxInFlight * 16 },
        breaker: resilience.breaker,
        maxWaitMs: { CHECKOUT: resilience.checkoutMaxWaitMs },
      });
      bindResilienceMetrics(resilienceMetrics, processor);
      return processor;
    });
  },
};
