import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { NatsConnection } from '@nats-io/transport-node';
import { Subjects } from '../../../libs/contracts/src';
import { APP_CONFIG, AppConfig } from '../../../libs/config/src';
import {
  LedgerBooks,
  LedgerEvent,
  LedgerEventConsumer,
  financeSchemaFor,
} from '../../../libs/ledger/src';
import { RealtimeReconciler } from '../../../libs/ledger/src/reconciliation';
import { LOGGER, Logger, Metrics } from '../../../libs/observability/src';
import { LEDGER_NATS } from './ledger-nats.provider';

/** Durable name of the ledger's consumer on PAYMENT_EVENTS. */
export const LEDGER_DURABLE = 'ledger';
/** Durable name of the ledger's consumer on FINANCE_EVENTS (disputes, payouts, refunds). */
export const LEDGER_FINANCE_DURABLE = 'ledger-finance';

/**
 * Wires two batched JetStream consumers to the books: `payments.evt.>` (PAYMENT_EVENTS) and
 * `refunds|disputes|payouts.evt.>` (FINANCE_EVENTS). Their batches take the same advisory lock.
 */
@Injectable()
export class LedgerEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: LedgerEventConsumer;
  private finance?: LedgerEventConsumer;
  private lagTimer?: NodeJS.Timeout;

  constructor(
    @Inject(LEDGER_NATS) private readonly nc: NatsConnection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly subjects: Subjects,
    private readonly books: LedgerBooks,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly reconciler: RealtimeReconciler,
  ) {}

  /** Books a batch, then (committed) re-reconciles what it touched, off the ack path. */
  private async book(events: readonly LedgerEvent[]) {
    const result = await this.books.applyBatch(events);
    this.reconciler.afterBatch(events);
    return result;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { ledger } = this.config;
    this.consumer = new LedgerEventConsumer(
      this.nc,
      {
        stream: this.subjects.streams.events.name,
        durable: LEDGER_DURABLE,
        filterSubject: this.subjects.allEvents,
        batchSize: ledger.batchSize,
        maxWaitMs: ledger.batchWaitMs,
        maxDeliver: ledger.maxDeliver,
        ackWaitMs: ledger.ackWaitMs,
        deadLetterSubject: (subject) => this.subjects.deadLetter(subject),
        apply: (events) => this.book(events),
      },
      this.logger.child({ component: 'ledger-consumer' }),
      this.metrics,
    );
    this.finance = new LedgerEventConsumer(
      this.nc,
      {
        stream: this.subjects.streams.finance.name,
        durable: LEDGER_FINANCE_DURABLE,
        schemaFor: financeSchemaFor(this.subjects),
        batchSize: ledger.batchSize,
        maxWaitMs: ledger.batchWaitMs,
        maxDeliver: ledger.maxDeliver,
        ackWaitMs: ledger.ackWaitMs,
        deadLetterSubject: (subject) => this.subjects.deadLetter(subject),
        apply: (events) => this.book(events),
      },
      this.logger.child({ component: 'ledger-finance-consumer' }),
      this.metrics,
    );
    await this.consumer.start();
    await this.finance.start();
    this.lagTimer = setInterval(() => {
      void this.consumer?.pending().catch(() => undefined);
      void this.finance?.pending().catch(() => undefined);
    }, 5000);
    this.lagTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.lagTimer);
    await this.consumer?.stop();
    await this.finance?.stop();
  }
}
