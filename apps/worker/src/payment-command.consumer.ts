import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { NatsConnection } from '@nats-io/transport-node';
import { PaymentCommand, Subjects, paymentCommandSchema } from '../../../libs/contracts/src';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import { CommandConsumer, NATS_CONNECTION } from '../../../libs/messaging/src';
import { LOGGER, Logger, Metrics } from '../../../libs/observability/src';
import { PaymentCommandHandler, PaymentJanitor } from '../../../libs/payments/src';

/** Wires the durable JetStream consumer of payment commands to the handler, plus the janitor. */
@Injectable()
export class PaymentCommandConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: CommandConsumer<PaymentCommand>;
  private lagTimer?: NodeJS.Timeout;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly subjects: Subjects,
    private readonly handler: PaymentCommandHandler,
    private readonly janitor: PaymentJanitor,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { worker } = this.config;
    this.consumer = new CommandConsumer(
      this.nc,
      {
        stream: this.subjects.streams.commands.name,
        durable: this.subjects.workerDurable,
        filterSubject: this.subjects.allCommands,
        schema: paymentCommandSchema,
        concurrency: worker.concurrency,
        maxDeliver: worker.maxDeliver,
        ackWaitMs: worker.ackWaitMs,
        deadLetterSubject: (subject) => this.subjects.deadLetter(subject),
        handle: (command, delivery) => this.handler.handle(command, delivery.attempt),
      },
      this.logger.child({ component: 'command-consumer' }),
      this.metrics,
    );
    await this.consumer.start();
    this.janitor.start();
    this.lagTimer = setInterval(() => void this.consumer?.pending().catch(() => undefined), 5000);
    this.lagTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.lagTimer);
    await this.janitor.stop();
    await this.consumer?.stop();
  }
}
