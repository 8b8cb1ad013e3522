import { NatsConnection, headers } from '@nats-io/transport-node';
import {
  AckPolicy,
  Consumer,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamClient,
  JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { z } from 'zod';
import { parseMessage } from '../../contracts/src';
import { Logger, Metrics } from '../../observability/src';
import { NANOS_PER_MS } from './nats-connection';

/** Thrown by a handler to ask for redelivery after a delay (not an error: e.g. 429 backoff). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

export interface ConsumerOptions<T> {
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject: string;
  readonly schema: z.ZodType<T>;
  readonly concurrency: number;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly deadLetterSubject: (subject: string) => string;
  readonly handle: (message: T, delivery: { attempt: number; subject: string }) => Promise<void>;
}

/** Delay before the n-th redelivery after a handler error: exponential, capped, with jitter. */
export function redeliveryDelayMs(attempt: number): number {
  const base = Math.min(30_000, 250 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * A durable pull consumer with explicit acks, bounded redelivery and a concurrency limit.
 * Invalid messages and messages that exhausted their deliveries go to the dead-letter subject
 * with the reason in a header, then are terminated: they never crash the loop or ack-loop.
 */
export class CommandConsumer<T> {
  private readonly js: JetStreamClient;
  private messages?: ConsumerMessages;
  private readonly inFlight = new Set<Promise<void>>();
  private loop?: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: ConsumerOptions<T>,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.js = jetstream(nc);
  }

  async start(): Promise<void> {
    const consumer = await this.ensureConsumer();
    this.messages = await consumer.consume({ max_messages: this.options.concurrency });
    this.loop = this.run(this.messages);
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  async pending(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(this.options.stream, this.options.durable);
    const pending = info.num_pending + info.num_ack_pending;
    this.metrics.consumerLag.set({ consumer: this.options.durable }, pending);
    return pending;
  }

  private async ensureConsumer(): Promise<Consumer> {
    const jsm = await jetstreamManager(this.nc);
    const config = {
      durable_name: this.options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.options.filterSubject,
      ack_wait: this.options.ackWaitMs * NANOS_PER_MS,
      max_deliver: this.options.maxDeliver,
      max_ack_pending: Math.max(1000, this.options.concurrency * 4),
    };
    try {
      await jsm.consumers.add(this.options.stream, config);
    } catch {
      await jsm.consumers.update(this.options.stream, this.options.durable, config);
    }
    return this.js.consumers.get(this.options.stream, this.options.durable);
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      const task = this.process(msg).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
      if (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const attempt = msg.info.deliveryCount;
    const type = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      return this.deadLetter(msg, 'payload is not valid JSON', type);
    }
    const parsed = parseMessage(this.options.schema, body);
    if (!parsed.ok) return this.deadLetter(msg, `schema: ${parsed.reason}`, type);
    try {
      await this.options.handle(parsed.value, { attempt, subject: msg.subject });
      msg.ack();
      this.metrics.commandsHandled.inc({ type, result: 'ok' });
    } catch (error) {
      await this.onHandlerError(msg, error, attempt, type);
    }
  }

  private async onHandlerError(
    msg: JsMsg,
    error: unknown,
    attempt: number,
    type: string,
  ): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    if (attempt >= this.options.maxDeliver) {
      this.logger.error(
        { err: error, subject: msg.subject, attempt },
        'command failed on its last delivery',
      );
      return this.deadLetter(msg, `failed after ${attempt} deliveries: ${reason}`, type);
    }
    const delay = error instanceof RetryLater ? error.delayMs : redeliveryDelayMs(attempt);
    if (!(error instanceof RetryLater)) {
      this.logger.warn(
        { err: error, subject: msg.subject, attempt, delay },
        'command failed; will be redelivered',
      );
    }
    this.metrics.commandsHandled.inc({ type, result: 'retry' });
    msg.nak(delay);
  }

  private async deadLetter(msg: JsMsg, reason: string, type: string): Promise<void> {
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
      this.logger.error(
        { err: error, subject: msg.subject },
        'dead-letter publish failed; redelivering',
      );
      msg.nak(redeliveryDelayMs(msg.info.deliveryCount));
      return;
    }
    // This NATS server (2.9) ignores term("reason"): the reason lives in the dead letter.
    msg.term();
    this.logger.warn({ subject: msg.subject, reason }, 'message dead-lettered');
    this.metrics.deadLettered.inc({ subject: type });
    this.metrics.commandsHandled.inc({ type, result: 'dead_lettered' });
  }
}
