import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { NatsConnection } from '@nats-io/transport-node';
import { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { NATS_CONNECTION } from '../../../../libs/messaging/src';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref(),
    ),
  ]);
}

async function check(work: () => Promise<unknown>): Promise<'ok' | string> {
  try {
    await withTimeout(work());
    return 'ok';
  } catch (error) {
    return `down: ${(error as Error).message}`;
  }
}

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: Postgres and NATS both answer. */
  @Get('readyz')
  async readyz(@Res() reply: FastifyReply) {
    const [postgres, nats] = await Promise.all([
      check(() => this.dataSource.query('SELECT 1')),
      check(() => this.nc.flush()),
    ]);
    const ready = postgres === 'ok' && nats === 'ok';
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', checks: { postgres, nats } });
  }
}
