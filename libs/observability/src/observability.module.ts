import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/src';
import { LOGGER, createLogger } from './logger';
import { Metrics } from './metrics';

let shared: Metrics | undefined;

/** One registry per process, so `npm start` (gateway and worker in one process) exports both. */
export function processMetrics(): Metrics {
  shared ??= new Metrics();
  return shared;
}

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(service: string): DynamicModule {
    return {
      module: ObservabilityModule,
      providers: [
        { provide: Metrics, useFactory: processMetrics },
        {
          provide: LOGGER,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => createLogger(config.logLevel, service),
        },
      ],
      exports: [Metrics, LOGGER],
    };
  }
}
