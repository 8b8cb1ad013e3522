import { Provider } from '@nestjs/common';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import { ReconciliationClient } from '../../../libs/ledger/src/reconciliation/exception-client';

/** The gateway's NATS request/reply client of the ledger's reconciliation (own connection, lazy). */
export const reconciliationClientProvider: Provider = {
  provide: ReconciliationClient,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => {
    const url = new URL(config.natsUrl);
    const proxy = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: {
        servers: [`${url.hostname}:${url.port || 4222}`],
        name: 'gateway-reconciliation-client',
      },
    });
    return new ReconciliationClient(proxy, config.natsNamespace, config.ledger.queryTimeoutMs);
  },
};
