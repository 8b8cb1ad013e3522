import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { PaymentCommand, paymentCommandSchema } from '../../libs/contracts/src';
import { CommandConsumer, RetryLater } from '../../libs/messaging/src';
import { Metrics } from '../../libs/observability/src';
import { newId } from '../../libs/domain/src';
import { TestNamespace, createTestNamespace } from '../support/jetstream-namespace';
import { quietLogger } from '../support/quiet-logger';

/** The id a command names (webhook commands name a stored event, not a payment). */
const idOf = (c: PaymentCommand): string => ('paymentId' in c ? c.paymentId : c.webhookEventId);

describe('command consumer (real JetStream)', () => {
  let ns: TestNamespace;
  let consumer: CommandConsumer<PaymentCommand>;
  const handled: PaymentCommand[] = [];
  const attemptsByPayment = new Map<string, number>();
  const metrics = new Metrics(false);
  const failAlways = newId('pay');
  const retryOnce = newId('pay');

  beforeAll(async () => {
    ns = await createTestNamespace();
    consumer = new CommandConsumer(
      ns.nc,
      {
        stream: ns.subjects.streams.commands.name,
        durable: ns.subjects.workerDurable,
        filterSubject: ns.subjects.allCommands,
        schema: paymentCommandSchema,
        concurrency: 4,
        maxDeliver: 3,
        ackWaitMs: 2000,
        deadLetterSubject: (s) => ns.subjects.deadLetter(s),
        handle: async (command, delivery) => {
          attemptsByPayment.set(idOf(command), delivery.attempt);
          if (idOf(command) === failAlways) throw new Error('processor exploded');
          if (idOf(command) === retryOnce && delivery.attempt === 1)
            throw new RetryLater(50, 'busy');
          handled.push(command);
        },
      },
      quietLogger,
      metrics,
    );
    await consumer.start();
  });

  afterAll(async () => {
    await consumer.stop();
    await ns.drop();
  });

  const publish = (subject: string, data: string) => jetstream(ns.nc).publish(subject, data);
  const deadLetters = async () => {
    const jsm = await jetstreamManager(ns.nc);
    const stream = ns.subjects.streams.deadLetters.name;
    const count = (await jsm.streams.info(stream)).state.messages;
    const reasons: string[] = [];
    for (let seq = 1; seq <= count; seq++) {
      const msg = await jsm.streams.getMessage(stream, { seq });
      reasons.push(msg?.header.get('Dead-Letter-Reason') ?? '');
    }
    return reasons;
  };

  it('dead-letters malformed messages with a reason and keeps consuming', async () => {
    const good = newId('pay');
    await publish(ns.subjects.command('authorize'), '{not json');
    await publish(
      ns.subjects.command('capture'),
      JSON.stringify({ v: 1, type: 'capture', paymentId: newId('pay'), amount: -5 }),
    );
    await publish(
      ns.subjects.command('authorize'),
      JSON.stringify({ v: 2, type: 'authorize', paymentId: newId('pay') }),
    );
    await publish(
      ns.subjects.command('authorize'),
      JSON.stringify({ v: 1, type: 'authorize', paymentId: good }),
    );
    await waitFor(() => handled.some((c) => idOf(c) === good));
    await waitFor(async () => (await deadLetters()).length >= 3);
    const reasons = await deadLetters();
    expect(reasons[0]).toBe('payload is not valid JSON');
    expect(reasons[1]).toMatch(/^schema: amount/);
    expect(reasons[2]).toMatch(/^schema: /);
  });

  it('redelivers after RetryLater and handles the message once it succeeds', async () => {
    await publish(
      ns.subjects.command('authorize'),
      JSON.stringify({ v: 1, type: 'authorize', paymentId: retryOnce }),
    );
    await waitFor(() => handled.some((c) => idOf(c) === retryOnce));
    expect(attemptsByPayment.get(retryOnce)).toBe(2);
    expect(handled.filter((c) => idOf(c) === retryOnce)).toHaveLength(1);
  });

  it('dead-letters a message whose handler keeps failing, after max deliveries, without looping', async () => {
    const before = (await deadLetters()).length;
    await publish(
      ns.subjects.command('authorize'),
      JSON.stringify({ v: 1, type: 'authorize', paymentId: failAlways }),
    );
    await waitFor(async () => (await deadLetters()).length > before, 20_000);
    expect(attemptsByPayment.get(failAlways)).toBe(3);
    expect((await deadLetters()).at(-1)).toMatch(/failed after 3 deliveries: processor exploded/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(attemptsByPayment.get(failAlways)).toBe(3);
    expect(await consumer.pending()).toBe(0);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
