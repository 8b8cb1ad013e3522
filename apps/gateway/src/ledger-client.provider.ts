import { Provider } from '@nestjs/common';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import { LedgerQueryClient } from '../../../libs/ledger/src';

/** The gateway's NATS request/reply client of the ledger (its own connection, made lazily). */
export const ledgerClientProvider: Provider = {
  provide: LedgerQueryClient,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => {
    const url = new URL(config.natsUrl);
    const proxy = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: [`${url.hostname}:${url.port || 4222}`], name: 'gateway-ledger-client' },
    });
    return new LedgerQueryClient(proxy, config.natsNamespace, config.ledger.queryTimeoutMs);
  },
};
