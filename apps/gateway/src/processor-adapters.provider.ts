import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PROCESSOR_ADAPTERS } from '../../../libs/contracts/src';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import { createProcessorAdapters } from '../../../adapters/registry';

/**
 * The configured processor adapters. The gateway never calls a processor (workers do): it
 * needs them for token ownership, routing and webhook verification only.
 */
export const processorAdaptersProvider: Provider = {
  provide: PROCESSOR_ADAPTERS,
  inject: [APP_CONFIG, DataSource],
  useFactory: (config: AppConfig, dataSource: DataSource) =>
    createProcessorAdapters({
      simulator: config.simulator,
      stripe: config.stripe,
      sql: dataSource,
    }),
};
