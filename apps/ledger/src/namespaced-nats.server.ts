import { ServerNats } from '@nestjs/microservices';
import { NatsConnection } from '@nats-io/transport-node';

/**
 * Nest's NATS transport, with every message pattern served under a namespace prefix
 * (`<ns>.ledger.query.accounts`) so isolated test stacks never answer each other, and in a
 * queue group so several ledger copies share the queries.
 */
export class NamespacedNatsServer extends ServerNats {
  constructor(
    options: { servers: string[]; name: string },
    private readonly prefix: string,
    private readonly queueGroup: string,
  ) {
    super(options);
  }

  override bindEvents(client: NatsConnection): void {
    for (const channel of this.messageHandlers.keys()) {
      client.subscribe(this.prefix ? `${this.prefix}.${channel}` : channel, {
        queue: this.queueGroup,
        callback: this.getMessageHandler(channel).bind(this) as never,
      });
    }
  }
}
