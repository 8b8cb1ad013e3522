import { Provider } from '@nestjs/common';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import { LedgerExportClient } from '../../../libs/ledger/src/exports';

/** The gateway's NATS request/reply client of the ledger's exports (own connection, lazy). */
export const ledgerExportClientProvider: Provider = {
  provide: LedgerExportClient,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => {
    const url = new URL(config.natsUrl);
    const proxy = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: [`${url.hostname}:${url.port || 4222}`], name: 'gateway-ledger-exports' },
    });
    return new LedgerExportClient(proxy, config.natsNamespace, config.ledger.queryTimeoutMs);
  },
};
