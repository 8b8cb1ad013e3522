import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig, runMain } from '../../../libs/config/src';
import { Metrics } from '../../../libs/observability/src';
import { startMetricsServer } from './metrics-server';
import { WorkerModule } from './worker.module';

/** Starts the payment worker: JetStream consumer, processor calls, outbox relay, janitor. */
export async function startWorker(config: AppConfig): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  await app.init();
  return app;
}

/**
 * The worker's metrics on WORKER_METRICS_PORT (0 = none) for a process without the gateway's
 * HTTP API (which serves the same process-wide registry on GET /metrics).
 */
export async function serveWorkerMetrics(
  app: INestApplicationContext,
  config: AppConfig,
): Promise<void> {
  if (config.workerMetricsPort === 0) return;
  const server = await startMetricsServer(app.get(Metrics), config.workerMetricsPort, config.host);
  process.once('SIGTERM', () => server.close());
}

/** `npm run start:worker`: the worker alone, with its own metrics endpoint. */
async function startStandaloneWorker(config: AppConfig): Promise<void> {
  await serveWorkerMetrics(await startWorker(config), config);
}

if (require.main === module) void runMain('worker', startStandaloneWorker);
