import {
  Global,
  Inject,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import { Subjects } from '../../contracts/src';
import { APP_CONFIG, AppConfig } from '../../config/src';
import { LOGGER, Logger, Metrics } from '../../observability/src';
import { connectNats, ensureStreams } from './nats-connection';
import { OutboxRelay } from './outbox';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

/** NATS connection (streams ensured at start), subjects and the outbox relay for this process. */
@Global()
@Module({
  providers: [
    {
      provide: Subjects,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new Subjects(config.natsNamespace),
    },
    {
      provide: NATS_CONNECTION,
      inject: [APP_CONFIG, Subjects],
      useFactory: async (config: AppConfig, subjects: Subjects) => {
        const nc = await connectNats(config.natsUrl, 'payment-gateway');
        await ensureStreams(nc, subjects);
        return nc;
      },
    },
    {
      provide: OutboxRelay,
      inject: [DataSource, NATS_CONNECTION, APP_CONFIG, LOGGER, Metrics],
      useFactory: (
        ds: DataSource,
        nc: NatsConnection,
        config: AppConfig,
        logger: Logger,
        metrics: Metrics,
      ) =>
        new OutboxRelay(
          ds,
          nc,
          config.outbox,
          logger.child({ component: 'outbox-relay' }),
          metrics,
        ),
    },
  ],
  exports: [Subjects, NATS_CONNECTION, OutboxRelay],
})
export class MessagingModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
  ) {}

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
