import { INestMicroservice } from '@nestjs/common';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startLedger } from '../../apps/ledger/src/main';
import { loadConfig } from '../../libs/config/src';
import { PaymentEvent } from '../../libs/contracts/src';
import { PaymentsError, newId } from '../../libs/domain/src';
import { LedgerQueryClient } from '../../libs/ledger/src';
import { processMetrics } from '../../libs/observability/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_NATS_URL, TestNamespace, createTestNamespace } from '../support/jetstream-namespace';

/** The ledger app in-process: JetStream consumer → books → query API over NATS request/reply. */
describe('ledger service (real Postgres, NATS and JetStream)', () => {
  let db: TestDatabase;
  let ns: TestNamespace;
  let ledger: INestMicroservice;
  let client: LedgerQueryClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    ns = await createTestNamespace();
    const config = loadConfig({
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: ns.subjects.namespace,
      DB_POOL_SIZE: '4',
      LOG_LEVEL: 'silent',
      LEDGER_BATCH_SIZE: '50',
      LEDGER_BATCH_WAIT_MS: '20',
      LEDGER_MAX_DELIVER: '3',
    });
    ledger = await startLedger(config);
    const u = new URL(TEST_NATS_URL);
    const proxy = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: [`${u.hostname}:${u.port || 4222}`] },
    });
    client = new LedgerQueryClient(proxy, ns.subjects.namespace, 5000);
  });

  afterAll(async () => {
    await client?.close();
    await ledger?.close();
    await ns?.drop();
    await db?.drop();
  });

  const publish = (type: PaymentEvent['type'], data: unknown) =>
    jetstream(ns.nc).publish(
      ns.subjects.event(type),
      typeof data === 'string' ? data : JSON.stringify(data),
    );

  function event(type: PaymentEvent['type'], paymentId: string, extra: object = {}) {
    return {
      v: 1,
      eventId: newId('evt'),
      type,
      occurredAt: new Date().toISOString(),
      payment: {
        id: paymentId,
        clientId: 'cli',
        status: 'SUCCEEDED',
        amount: 2500,
        currency: 'USD',
        amountCaptured: 2500,
        amountRefunded: 0,
        processor: 'simulator',
        processorReference: 'sim_x',
      },
      ...extra,
    };
  }

  async function deadLetters(): Promise<string[]> {
    const jsm = await jetstreamManager(ns.nc);
    const stream = ns.subjects.streams.deadLetters.name;
    const count = (await jsm.streams.info(stream)).state.messages;
    const reasons: string[] = [];
    for (let seq = 1; seq <= count; seq++) {
      const msg = await jsm.streams.getMessage(stream, { seq });
      reasons.push(msg?.header.get('Dead-Letter-Reason') ?? '');
    }
    return reasons;
  }

  it('books payment events and answers balances, entries and the trial balance over NATS', async () => {
    const paymentId = newId('pay');
    const sale = event('succeeded', paymentId, { amount: 2500 });
    await publish('succeeded', sale);
    await publish('succeeded', sale); // a duplicate publish (different stream message)
    await publish('refunded', event('refunded', paymentId, { amount: 500 }));
    await waitFor(
      async () => (await client.entries({ paymentId, first: 10 })).entries.length === 2,
    );

    const receivable = await client.account('receivable:simulator:USD');
    expect(receivable?.balance.posted).toEqual({ debits: 2500, credits: 500, balance: 2000 });
    expect(receivable).toMatchObject({
      type: 'asset',
      normalSide: 'debit',
      processor: 'simulator',
    });
    const codes = (await client.accounts()).map((a) => a.code);
    expect(codes).toEqual(['clearing:USD', 'receivable:simulator:USD', 'refunds:USD']);

    const tb = await client.trialBalance({ currency: 'usd' });
    expect(tb).toMatchObject({ currency: 'USD', debits: 3000, credits: 3000, balanced: true });
    const past = await client.balance({
      code: 'receivable:simulator:USD',
      asOf: '2020-01-01T00:00:00Z',
    });
    expect(past.posted.balance).toBe(0);

    const [entries] = await client.entriesByPayments([paymentId]);
    expect(entries.map((e) => e.kind)).toEqual(['sale', 'refund']);
  });

  it('pages entries newest first with a cursor', async () => {
    const first = await client.entries({ first: 1 });
    expect(first.entries).toHaveLength(1);
    expect(first.hasNextPage).toBe(true);
  });

  it('answers query errors with API codes', async () => {
    await expect(client.balance({ code: 'nope:USD' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(client.trialBalance({ currency: 'XXQ' })).rejects.toBeInstanceOf(PaymentsError);
    await expect(client.trialBalance({ currency: 'XXQ' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    expect(await client.account('nope:USD')).toBeNull();
  });

  it('dead-letters bad messages with a reason and leaves the books untouched', async () => {
    const before = await client.trialBalance({ currency: 'USD' });
    const paymentId = newId('pay');
    await publish('succeeded', '{not json');
    await publish('succeeded', event('succeeded', paymentId, { amount: -5 }));
    const unknownCurrency = event('succeeded', paymentId, { amount: 5 });
    unknownCurrency.payment.currency = 'XXQ';
    await publish('succeeded', unknownCurrency);
    await publish('captured', event('captured', paymentId)); // valid, but no amount to book
    const noProcessor = event('succeeded', paymentId, { amount: 5 });
    noProcessor.payment.processor = null as never;
    await publish('succeeded', noProcessor);

    await waitFor(async () => (await deadLetters()).length >= 5, 15_000);
    const reasons = await deadLetters();
    expect(reasons).toEqual([
      'payload is not valid JSON',
      expect.stringMatching(/^schema: amount/),
      expect.stringMatching(/^schema: payment\.currency: unknown ISO 4217 currency/),
      'posting: captured amount must be a positive amount in minor units',
      'posting: succeeded event of a payment without a processor',
    ]);
    expect(await client.trialBalance({ currency: 'USD' })).toEqual(before);
    expect((await client.entries({ paymentId, first: 10 })).entries).toEqual([]);
  });

  it('books disputes and payouts from FINANCE_EVENTS (second durable consumer)', async () => {
    const js = jetstream(ns.nc);
    const paymentId = newId('pay');
    const sale = event('succeeded', paymentId, { amount: 2500 });
    sale.payment.currency = 'EUR';
    await publish('succeeded', sale);
    const envelope = () => ({ v: 1, eventId: newId('evt'), occurredAt: new Date().toISOString() });
    const dispute = {
      id: newId('dsp'),
      paymentId,
      processor: 'simulator',
      processorReference: 'dp_1',
      status: 'NEEDS_RESPONSE',
      amount: 700,
      currency: 'EUR',
      reason: null,
      evidenceDueBy: null,
    };
    const payout = {
      id: newId('pyo'),
      processor: 'simulator',
      processorReference: 'po_1',
      status: 'PAID',
      amount: 1000,
      currency: 'EUR',
      arrivalDate: null,
      failureCode: null,
    };
    await js.publish(
      ns.subjects.disputeEvent('opened'),
      JSON.stringify({ ...envelope(), type: 'opened', dispute }),
    );
    await js.publish(
      ns.subjects.disputeEvent('lost'),
      JSON.stringify({ ...envelope(), type: 'lost', dispute: { ...dispute, status: 'LOST' } }),
    );
    await js.publish(
      ns.subjects.payoutEvent('paid'),
      JSON.stringify({ ...envelope(), type: 'paid', payout }),
    );
    await js.publish(
      ns.subjects.refundEvent('succeeded'), // booked from payments.evt.refunded, not from here
      JSON.stringify({
        ...envelope(),
        type: 'succeeded',
        paymentId,
        processor: 'simulator',
        refund: { id: newId('ref'), status: 'SUCCEEDED', amount: 100, currency: 'EUR' },
      }),
    );
    await waitFor(
      async () =>
        (await client.account('bank:EUR')) !== null &&
        (await client.entriesByPayments([paymentId]))[0].length === 2,
    );
    const receivable = await client.account('receivable:simulator:EUR');
    expect(receivable?.balance.posted.balance).toBe(2500 - 700 - 1000);
    expect((await client.account('disputes:simulator:EUR'))?.balance.posted.balance).toBe(700);
    expect((await client.trialBalance({ currency: 'EUR' })).balanced).toBe(true);
    const [entries] = await client.entriesByPayments([paymentId]);
    expect(entries.map((e) => e.kind).sort()).toEqual(['dispute', 'sale']);
  });

  it('exports the ledger lag (published → committed) in the process registry (/metrics)', async () => {
    const text = await processMetrics().registry.metrics();
    const count = (consumer: string) =>
      Number(
        new RegExp(
          `^ledger_booking_lag_seconds_count\\{consumer="${consumer}"\\} (\\d+)`,
          'm',
        ).exec(text)?.[1] ?? 0,
      );
    expect(count('ledger')).toBeGreaterThanOrEqual(3);
    expect(count('ledger-finance')).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^ledger_booking_lag_seconds_bucket\{le="0.5",consumer="ledger"\} \d+/m);
    expect(text).toMatch(/^ledger_event_age_seconds_count\{consumer="ledger"\} \d+/m);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
