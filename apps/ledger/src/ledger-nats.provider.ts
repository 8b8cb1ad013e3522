import { Provider } from '@nestjs/common';
import { NatsConnection } from '@nats-io/transport-node';
import { Subjects } from '../../../libs/contracts/src';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import { connectNats, ensureStreams } from '../../../libs/messaging/src';

/**
 * The ledger's JetStream connection (streams ensured at start). The query transport has its
 * own: Nest connects it only at listen(), after the providers exist. No outbox relay here: the
 * outbox belongs to the payments side.
 */
export const LEDGER_NATS = Symbol('LEDGER_NATS');

export const ledgerNatsProviders: Provider[] = [
  {
    provide: Subjects,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => new Subjects(config.natsNamespace),
  },
  {
    provide: LEDGER_NATS,
    inject: [APP_CONFIG, Subjects],
    useFactory: async (config: AppConfig, subjects: Subjects): Promise<NatsConnection> => {
      const nc = await connectNats(config.natsUrl, 'ledger');
      await ensureStreams(nc, subjects);
      return nc;
    },
  },
];
