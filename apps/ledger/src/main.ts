import 'reflect-metadata';
import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig, runMain } from '../../../libs/config/src';
import { LedgerModule } from './ledger.module';
import { NamespacedNatsServer } from './namespaced-nats.server';

/**
 * Starts the ledger: a Nest microservice answering `ledger.query.*` over NATS request/reply,
 * plus the durable, batched JetStream consumer of payment events that keeps the books.
 */
export async function startLedger(config: AppConfig): Promise<INestMicroservice> {
  const url = new URL(config.natsUrl);
  const app = await NestFactory.createMicroservice(LedgerModule.forRoot(config), {
    strategy: new NamespacedNatsServer(
      { servers: [`${url.hostname}:${url.port || 4222}`], name: 'ledger-queries' },
      config.natsNamespace,
      'ledger',
    ),
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  await app.listen();
  return app;
}

if (require.main === module) void runMain('ledger', startLedger);
