import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { AppConfig, runMain } from '../../../libs/config/src';
import { GatewayModule } from './gateway.module';

const BODY_LIMIT_BYTES = 256 * 1024;

/** Starts the HTTP gateway (GraphQL, webhooks, health, metrics) and returns it. */
export async function startGateway(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });
  adapter.getInstance().addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(config),
    adapter,
    {
      logger: ['error', 'warn'],
    },
  );
  // Webhook signatures cover the exact bytes sent: keep them as a Buffer on /webhooks/*
  // (the controller verifies, then parses); every other JSON body is parsed as before.
  const parseJson = adapter.getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    if (request.url.startsWith('/webhooks/')) done(null, body);
    else parseJson(request as never, body as unknown as string, done);
  });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  return app;
}

if (require.main === module) {
  void runMain('gateway', startGateway);
}
