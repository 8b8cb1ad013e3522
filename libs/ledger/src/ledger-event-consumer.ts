import { NatsConnection, headers } from '@nats-io/transport-node';
import {
  AckPolicy,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamClient,
  JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { z } from 'zod';
import {
  Subjects,
  disputeEventSchema,
  parseMessage,
  paymentEventSchema,
  payoutEventSchema,
  refundEventSchema,
} from '../../contracts/src';
import { NANOS_PER_MS, redeliveryDelayMs } from '../../messaging/src';
import { Logger, Metrics } from '../../observability/src';
import { BatchResult } from './ledger-books';
import { LedgerEvent } from './posting-rules';

export interface LedgerConsumerOptions {
  readonly stream: string;
  readonly durable: string;
  /** Omitted: every subject of the stream. */
  readonly filterSubject?: string;
  /** The schema of a message by its subject (default: payment events). */
  readonly schemaFor?: (subject: string) => z.ZodType<LedgerEvent>;
  /** Flush when this many events are buffered… */
  readonly batchSize: number;
  /** …or this long after the first one arrived. */
  readonly maxWaitMs: number;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly deadLetterSubject: (subject: string) => string;
  /** Books the events in one transaction (LedgerBooks.applyBatch). */
  readonly apply: (events: readonly LedgerEvent[]) => Promise<BatchResult>;
}

/** Schemas of the FINANCE_EVENTS stream's subjects (`[<ns>.]refunds|disputes|payouts.evt.*`). */
export function financeSchemaFor(subjects: Subjects): (subject: string) => z.ZodType<LedgerEvent> {
  const skip = subjects.namespace ? subjects.namespace.length + 1 : 0;
  return (subject) => {
    const local = subject.slice(skip);
    if (local.startsWith('disputes.')) return disputeEventSchema;
    if (local.startsWith('payouts.')) return payoutEventSchema;
    return refundEventSchema;
  };
}

/** Messages parsed between two turns of the event loop. */
const YIELD_EVERY = 50;
/** Acks sent between two looks at I/O: the next batch's round trips are not held behind them. */
const ACK_SLICE = 250;

interface Buffered {
  readonly msg: JsMsg;
  readonly event: LedgerEvent;
}

/**
 * The ledger's durable JetStream pull consumer of payment events, in batches: messages are
 * buffered up to `batchSize` or `maxWaitMs`, booked in ONE transaction, and acked only after it
 * commits (at-least-once; booking is idempotent by event id). Invalid messages and events the
 * posting rules refuse are dead-lettered with a reason and terminated. A batch that fails is
 * retried one event at a time, so one bad event cannot hold the others back.
 */
export class LedgerEventConsumer {
  private readonly js: JetStreamClient;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private buffer: Buffered[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** The acks of the last committed batch, sent while the next batch books. */
  private settling: Promise<void> = Promise.resolve();

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: LedgerConsumerOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.js = jetstream(nc);
  }

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const config = {
      durable_name: this.options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...(this.options.filterSubject ? { filter_subject: this.options.filterSubject } : {}),
      ack_wait: this.options.ackWaitMs * NANOS_PER_MS,
      max_deliver: this.options.maxDeliver,
      // One batch booking, one queued behind it, one being parsed, and the client's prefetch.
      max_ack_pending: this.options.batchSize * 5,
    };
    try {
      await jsm.consumers.add(this.options.stream, config);
    } catch {
      await jsm.consumers.update(this.options.stream, this.options.durable, config);
    }
    const consumer = await this.js.consumers.get(this.options.stream, this.options.durable);
    this.messages = await consumer.consume({ max_messages: this.options.batchSize * 2 });
    this.loop = this.run(this.messages);
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
    await this.flush();
    await this.settling;
  }

  async pending(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(this.options.stream, this.options.durable);
    const pending = info.num_pending + info.num_ack_pending;
    this.metrics.consumerLag.set({ consumer: this.options.durable }, pending);
    return pending;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    let parsed = 0;
    for await (const msg of messages) {
      // Buffered messages are iterated through microtasks only: let I/O in now and then, so the
      // booking batch's next round trip to Postgres (its COMMIT) is not held behind parsing.
      if (++parsed % YIELD_EVERY === 0) await new Promise(setImmediate);
      const event = await this.parse(msg);
      if (!event) continue;
      this.buffer.push({ msg, event });
      if (this.buffer.length >= this.options.batchSize) {
        // Pipelined: the next batch is parsed while this one books. Waiting for the batch
        // BEFORE it is the back-pressure: at most one batch books and one waits behind it.
        const previous = this.flushing;
        void this.flush();
        await previous;
      } else this.timer ??= setTimeout(() => void this.flush(), this.options.maxWaitMs);
    }
  }

  private async parse(msg: JsMsg): Promise<LedgerEvent | null> {
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      await this.deadLetter(msg, 'payload is not valid JSON');
      return null;
    }
    const schema = this.options.schemaFor?.(msg.subject) ?? paymentEventSchema;
    const parsed = parseMessage(schema, body);
    if (parsed.ok) return parsed.value;
    await this.deadLetter(msg, `schema: ${parsed.reason}`);
    return null;
  }

  /** Books what is buffered; flushes never overlap. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing
      .then(() => (batch.length ? this.book(batch) : undefined))
      .catch((error) => this.logger.error({ err: error }, 'ledger flush failed'));
    return this.flushing;
  }

  private async book(batch: Buffered[]): Promise<void> {
    try {
      const result = await this.options.apply(batch.map((b) => b.event));
      // The acks go out while the next batch books (they were ~12 % of a batch's cycle with
      // Postgres idle): at most one committed batch's acks are outstanding behind a booking.
      const earlier = this.settling;
      this.settling = earlier
        .then(() => this.settle(batch, result))
        .catch((error) => this.logger.error({ err: error }, 'ledger acks failed'));
      await earlier;
    } catch (error) {
      if (batch.length === 1) return this.onFailure(batch[0], error);
      this.logger.warn(
        { err: error, size: batch.length },
        'ledger batch failed; booking its events one by one',
      );
      for (const item of batch) {
        try {
          await this.settle([item], await this.options.apply([item.event]));
        } catch (single) {
          await this.onFailure(item, single);
        }
      }
    }
  }

  /** After the commit: acks (or dead-letters) each message and observes the ledger's lag. */
  private async settle(batch: Buffered[], result: BatchResult): Promise<void> {
    const committedMs = Date.now();
    const labels = { consumer: this.options.durable };
    let sent = 0;
    for (const { msg, event } of batch) {
      if (++sent % ACK_SLICE === 0) await new Promise(setImmediate);
      const reason = result.rejected.get(event.eventId);
      if (reason) {
        await this.deadLetter(msg, `posting: ${reason}`);
        continue;
      }
      msg.ack();
      const publishedMs = msg.info.timestampNanos / NANOS_PER_MS;
      this.metrics.ledgerLag.observe(labels, Math.max(0, committedMs - publishedMs) / 1000);
      const occurredMs = Date.parse(event.occurredAt);
      if (Number.isFinite(occurredMs)) {
        this.metrics.ledgerEventAge.observe(labels, Math.max(0, committedMs - occurredMs) / 1000);
      }
    }
  }

  private async onFailure(item: Buffered, error: unknown): Promise<void> {
    const attempt = item.msg.info.deliveryCount;
    const reason = error instanceof Error ? error.message : String(error);
    if (attempt >= this.options.maxDeliver) {
      this.logger.error({ err: error, eventId: item.event.eventId, attempt }, 'ledger gave up');
      return this.deadLetter(item.msg, `failed after ${attempt} deliveries: ${reason}`);
    }
    this.logger.warn({ err: error, eventId: item.event.eventId, attempt }, 'booking failed');
    item.msg.nak(redeliveryDelayMs(attempt));
  }

  private async deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const h = headers();
    h.set('Dead-Letter-Reason', reason);
    h.set('Dead-Letter-Subject', msg.subject);
    h.set('Dead-Letter-Stream-Seq', String(msg.seq));
    try {
      await this.js.publish(this.options.deadLetterSubject(msg.subject), msg.data, {
        headers: h,
        msgID: `dlq-${this.options.durable}-${msg.seq}`,
      });
    } catch (error) {
      this.logger.error({ err: error, subject: msg.subject }, 'dead-letter publish failed');
      msg.nak(redeliveryDelayMs(msg.info.deliveryCount));
      return;
    }
    // NATS 2.9 ignores term("reason"): the reason lives in the dead letter's header.
    msg.term();
    this.logger.warn({ subject: msg.subject, reason }, 'ledger event dead-lettered');
    this.metrics.deadLettered.inc({ subject: msg.subject.slice(msg.subject.lastIndexOf('.') + 1) });
  }
}
