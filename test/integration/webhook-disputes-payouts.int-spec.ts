import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { newId } from '../../libs/domain/src';
import {
  ParsedWebhook,
  ProcessorAdapter,
  Subjects,
  disputeEventSchema,
  parseMessage,
  paymentEventSchema,
  payoutEventSchema,
  refundEventSchema,
} from '../../libs/contracts/src';
import { Metrics } from '../../libs/observability/src';
import {
  ApiKeyService,
  ProcessorRouter,
  WebhookApplicationService,
  WebhookIntakeService,
} from '../../libs/payments/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { quietLogger } from '../support/quiet-logger';
import {
  stripeDispute,
  stripeEventOf,
  stripePayout,
  testStripeId,
} from '../support/stripe-finance-events';

/** A "stripe" adapter that trusts any body: signatures are covered by the unit and e2e suites. */
const trustingStripe = {
  name: 'stripe',
  parseWebhook(rawBody: Buffer): ParsedWebhook {
    const event = JSON.parse(rawBody.toString('utf8'));
    return {
      eventId: event.id,
      type: event.type,
      occurredAt: new Date(event.created * 1000),
      payload: event,
    };
  },
  ownsToken: () => false,
} as unknown as ProcessorAdapter;

/** The versioned schema of each event family, by the subject's first token. */
const SCHEMAS: Record<string, z.ZodType<unknown>> = {
  payments: paymentEventSchema,
  refunds: refundEventSchema,
  disputes: disputeEventSchema,
  payouts: payoutEventSchema,
};

describe('disputes, payouts and fees from webhooks (real Postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let clientId: string;
  const subjects = new Subjects('unused');
  const metrics = new Metrics(false);
  let intake: WebhookIntakeService;
  let app: WebhookApplicationService;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = db.dataSource;
    const router = new ProcessorRouter([trustingStripe]);
    intake = new WebhookIntakeService(ds, router, subjects, metrics, quietLogger);
    app = new WebhookApplicationService(ds, subjects, metrics, quietLogger);
    clientId = (await new ApiKeyService(ds, 0).create('disputes', ['admin'])).client.id;
  });
  afterAll(() => db.drop());

  async function insertSucceededPayment(reference: string, amount = 1000): Promise<string> {
    const id = newId('pay');
    await ds.query(
      `INSERT INTO payments (id, client_id, status, amount, currency, capture_method, priority,
         payment_method, processor, processor_reference, amount_authorized, amount_captured)
       VALUES ($1, $2, 'SUCCEEDED', $3, 'EUR', 'AUTOMATIC', 'CHECKOUT', 'pm_card_visa', 'stripe',
         $4, $3, $3)`,
      [id, clientId, amount, reference],
    );
    return id;
  }

  const deliver = async (event: unknown) => {
    const { id } = await intake.receive('stripe', Buffer.from(JSON.stringify(event)), 'trusted');
    await app.apply(id);
    return id;
  };
  const webhookRow = async (id: string) =>
    (await ds.query(`SELECT status, last_error FROM webhook_events WHERE id = $1`, [id]))[0];

  /** Every outbox event since `from` (an outbox id), validated against its versioned schema. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function eventsSince(from: string): Promise<{ subject: string; payload: any }[]> {
    const rows: { subject: string; payload: unknown }[] = await ds.query(
      `SELECT subject, payload FROM outbox WHERE id > $1 AND subject NOT LIKE '%.cmd.%' ORDER BY id`,
      [from],
    );
    for (const row of rows) {
      const schema = SCHEMAS[row.subject.split('.')[1]];
      if (!schema) throw new Error(`no schema for ${row.subject}`);
      const parsed = parseMessage(schema, row.payload);
      if (!parsed.ok) throw new Error(`${row.subject}: ${parsed.reason}`);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return rows as { subject: string; payload: any }[];
  }
  const mark = () => newId('obx');

  it('dispute lifecycle in any order, with duplicates: the same final dispute, opened and won once', async () => {
    const run = async (order: number[]) => {
      const pi = testStripeId('pi');
      const paymentId = await insertSucceededPayment(pi);
      const dp = testStripeId('dp');
      const t0 = Math.floor(Date.now() / 1000);
      const dispute = (status: string) =>
        stripeDispute({ id: dp, payment_intent: pi, status, amount: 700 });
      const lifecycle = [
        stripeEventOf('charge.dispute.created', dispute('needs_response'), t0),
        stripeEventOf('charge.dispute.updated', dispute('under_review'), t0 + 60),
        stripeEventOf('charge.dispute.closed', dispute('won'), t0 + 120),
      ];
      const from = mark();
      for (const index of order) await deliver(lifecycle[index]);
      const [row] = await ds.query(
        `SELECT status, amount, currency, reason, payment_id, processor_reference,
           evidence_due_by IS NOT NULL AS has_due_by
         FROM disputes WHERE processor_reference = $1`,
        [dp],
      );
      const payment = (await ds.query(`SELECT status FROM payments WHERE id = $1`, [paymentId]))[0];
      const subjectsSeen = (await eventsSince(from)).map((e) => e.subject);
      return {
        dispute: { ...row, payment_id: row.payment_id === paymentId },
        paymentStatus: payment.status,
        opened: subjectsSeen.filter((s) => s.endsWith('disputes.evt.opened')).length,
        won: subjectsSeen.filter((s) => s.endsWith('disputes.evt.won')).length,
        lost: subjectsSeen.filter((s) => s.endsWith('disputes.evt.lost')).length,
      };
    };
    const everyEventAtLeastOnce = fc
      .array(fc.integer({ min: 0, max: 2 }), { maxLength: 4 })
      .chain((extra) => fc.shuffledSubarray([0, 1, 2, ...extra], { minLength: 3 + extra.length }));
    await fc.assert(
      fc.asyncProperty(everyEventAtLeastOnce, async (order) => {
        expect(await run(order)).toEqual({
          dispute: {
            status: 'WON',
            amount: 700,
            currency: 'EUR',
            reason: 'fraudulent',
            payment_id: true,
            processor_reference: expect.stringMatching(/^dp_/),
            has_due_by: true,
          },
          paymentStatus: 'SUCCEEDED',
          opened: 1,
          won: 1,
          lost: 0,
        });
      }),
      { numRuns: 30 },
    );
  });

  it('a closed dispute never reopens: a late needs_response is ignored as stale', async () => {
    const pi = testStripeId('pi');
    await insertSucceededPayment(pi);
    const dp = testStripeId('dp');
    const t0 = Math.floor(Date.now() / 1000);
    await deliver(
      stripeEventOf(
        'charge.dispute.closed',
        stripeDispute({ id: dp, payment_intent: pi, status: 'lost' }),
        t0,
      ),
    );
    const late = await deliver(
      stripeEventOf(
        'charge.dispute.updated',
        stripeDispute({ id: dp, payment_intent: pi, status: 'needs_response' }),
        t0 + 600,
      ),
    );
    expect(await webhookRow(late)).toMatchObject({
      status: 'ignored',
      last_error: expect.stringMatching(/stale/),
    });
    const [row] = await ds.query(`SELECT status FROM disputes WHERE processor_reference = $1`, [
      dp,
    ]);
    expect(row.status).toBe('LOST');
  });

  it('a dispute naming only the charge finds the payment by the charge we recorded', async () => {
    const pi = testStripeId('pi');
    const paymentId = await insertSucceededPayment(pi);
    const ch = testStripeId('ch');
    const charge = await deliver(
      stripeEventOf('charge.succeeded', {
        id: ch,
        object: 'charge',
        status: 'succeeded',
        payment_intent: pi,
        balance_transaction: testStripeId('txn'),
        metadata: {},
      }),
    );
    expect((await webhookRow(charge)).status).toBe('applied');
    const dp = testStripeId('dp');
    await deliver(stripeEventOf('charge.dispute.created', stripeDispute({ id: dp, charge: ch })));
    const [row] = await ds.query(`SELECT payment_id FROM disputes WHERE processor_reference = $1`, [
      dp,
    ]);
    expect(row.payment_id).toBe(paymentId);
  });

  it('a dispute of a payment unknown to us is an orphan', async () => {
    const id = await deliver(
      stripeEventOf(
        'charge.dispute.created',
        stripeDispute({ payment_intent: testStripeId('pi') }),
      ),
    );
    expect((await webhookRow(id)).status).toBe('orphan');
  });

  it('payouts: paid, then failed (bank return), a late paid is stale; events once per move', async () => {
    const po = testStripeId('po');
    const from = mark();
    await deliver(stripeEventOf('payout.paid', stripePayout({ id: po })));
    const [command] = (await ds.query(
      `SELECT payload FROM outbox WHERE subject LIKE '%.payments.cmd.webhook' ORDER BY id DESC LIMIT 1`,
    )) as { payload: { feeLookup?: boolean } }[];
    expect(command.payload.feeLookup).toBe(false); // a payout never needs a charge's fee
    await deliver(stripeEventOf('payout.paid', stripePayout({ id: po })));
    await deliver(
      stripeEventOf(
        'payout.failed',
        stripePayout({ id: po, status: 'failed', failure_code: 'account_closed' }),
      ),
    );
    const late = await deliver(stripeEventOf('payout.paid', stripePayout({ id: po })));
    expect((await webhookRow(late)).status).toBe('ignored');
    const [row] = await ds.query(
      `SELECT id, status, amount, currency, failure_code FROM payouts WHERE processor_reference = $1`,
      [po],
    );
    expect(row).toMatchObject({
      id: expect.stringMatching(/^pyo_/),
      status: 'FAILED',
      amount: 12345,
      currency: 'EUR',
      failure_code: 'account_closed',
    });
    const events = await eventsSince(from);
    expect(events.map((e) => e.subject)).toEqual([
      'unused.payouts.evt.paid',
      'unused.payouts.evt.failed',
    ]);
    expect(events[1].payload.payout).toMatchObject({
      processor: 'stripe',
      processorReference: po,
      amount: 12345,
      currency: 'EUR',
    });
  });

  it('a payout failed before any paid stays FAILED whatever comes after', async () => {
    const po = testStripeId('po');
    await deliver(stripeEventOf('payout.failed', stripePayout({ id: po, status: 'failed' })));
    await deliver(stripeEventOf('payout.paid', stripePayout({ id: po })));
    const [row] = await ds.query(`SELECT status FROM payouts WHERE processor_reference = $1`, [po]);
    expect(row.status).toBe('FAILED');
  });

  it('fees: a balance transaction named by id only is fetched from the processor, once', async () => {
    const pi = testStripeId('pi');
    const paymentId = await insertSucceededPayment(pi);
    const ch = testStripeId('ch');
    const txn = testStripeId('txn');
    const asked: string[] = [];
    let answer: 'found' | 'fail' | 'other-charge' = 'fail';
    const looking = new WebhookApplicationService(
      ds,
      subjects,
      metrics,
      quietLogger,
      () => undefined,
      async (processor, id) => {
        asked.push(`${processor}:${id}`);
        if (answer === 'fail') throw new Error('processor unavailable');
        return {
          id,
          type: 'charge',
          reportingCategory: 'charge',
          amount: 1000,
          fee: 59,
          net: 941,
          currency: 'EUR',
          status: 'pending',
          createdAt: new Date().toISOString(),
          availableOn: null,
          sourceReference: answer === 'found' ? ch : testStripeId('ch'),
        };
      },
    );
    const deliverTo = async (event: unknown) => {
      const { id } = await intake.receive('stripe', Buffer.from(JSON.stringify(event)), 'trusted');
      await looking.apply(id);
      return id;
    };
    const charge = {
      id: ch,
      object: 'charge',
      status: 'succeeded',
      payment_intent: pi,
      balance_transaction: txn,
      metadata: { payment_id: paymentId },
    };
    const feeRow = async () =>
      (
        await ds.query(`SELECT fee, net, currency FROM payment_fees WHERE payment_id = $1`, [
          paymentId,
        ])
      )[0];
    const from = mark();

    // The processor fails: the charge is still applied, the fee stays unknown.
    const failed = await deliverTo(stripeEventOf('charge.succeeded', charge));
    expect((await webhookRow(failed)).status).toBe('applied');
    expect(await feeRow()).toMatchObject({ fee: null });
    // It answers a transaction of ANOTHER charge: not trusted.
    answer = 'other-charge';
    await deliverTo(stripeEventOf('charge.updated', charge));
    expect(await feeRow()).toMatchObject({ fee: null });
    // It answers: the fee is recorded and announced once, with the transaction.
    answer = 'found';
    await deliverTo(stripeEventOf('charge.updated', charge));
    expect(await feeRow()).toMatchObject({ fee: 59, net: 941, currency: 'EUR' });
    // Known now: a later event does not ask again.
    await deliverTo(stripeEventOf('charge.updated', charge));
    expect(asked).toEqual([`stripe:${txn}`, `stripe:${txn}`, `stripe:${txn}`]);
    // The intake told the worker which events may need the lookup: this charge (transaction
    // id, no fee) may; an event that says no is applied without the pre-read or the question.
    const commands = (await ds.query(
      `SELECT payload FROM outbox WHERE subject LIKE '%.payments.cmd.webhook' ORDER BY id DESC LIMIT 1`,
    )) as { payload: { feeLookup?: boolean } }[];
    expect(commands[0].payload.feeLookup).toBe(true);
    answer = 'fail';
    const { id: told } = await intake.receive(
      'stripe',
      Buffer.from(JSON.stringify(stripeEventOf('charge.updated', charge))),
      'trusted',
    );
    await looking.apply(told, { feeLookup: false });
    expect((await webhookRow(told)).status).toBe('applied');
    expect(asked).toHaveLength(3);
    const events = await eventsSince(from);
    expect(events.map((e) => e.subject)).toEqual(['unused.payments.evt.fee_recorded']);
    expect(events[0].payload).toMatchObject({
      fee: 59,
      net: 941,
      feeCurrency: 'EUR',
      balanceTransaction: { id: txn, sourceReference: ch },
    });
  });

  it('fees: unknown with only a balance transaction id; recorded once from an expanded one', async () => {
    const pi = testStripeId('pi');
    const paymentId = await insertSucceededPayment(pi);
    const ch = testStripeId('ch');
    const txn = testStripeId('txn');
    const charge = (balance_transaction: unknown) => ({
      id: ch,
      object: 'charge',
      status: 'succeeded',
      payment_intent: pi,
      balance_transaction,
      metadata: { payment_id: paymentId },
    });
    const from = mark();
    await deliver(stripeEventOf('charge.succeeded', charge(txn)));
    let [fee] = await ds.query(`SELECT * FROM payment_fees WHERE payment_id = $1`, [paymentId]);
    expect(fee).toMatchObject({ balance_transaction_reference: txn, fee: null, net: null });
    const expanded = { id: txn, object: 'balance_transaction', fee: 59, net: 941, currency: 'eur' };
    await deliver(stripeEventOf('charge.updated', charge(expanded)));
    await deliver(stripeEventOf('charge.updated', charge({ ...expanded, fee: 1, net: 999 })));
    [fee] = await ds.query(`SELECT * FROM payment_fees WHERE payment_id = $1`, [paymentId]);
    expect(fee).toMatchObject({ fee: 59, net: 941, currency: 'EUR', charge_reference: ch });
    const events = await eventsSince(from);
    expect(events.map((e) => e.subject)).toEqual(['unused.payments.evt.fee_recorded']);
    expect(events[0].payload).toMatchObject({ fee: 59, net: 941, feeCurrency: 'EUR' });
  });

  it('payment and refund events carry valid schemas; succeeded carries fee and net when known', async () => {
    const pi = testStripeId('pi');
    const paymentId = newId('pay');
    await ds.query(
      `INSERT INTO payments (id, client_id, status, amount, currency, capture_method, priority,
         payment_method, processor, processor_reference)
       VALUES ($1, $2, 'PROCESSING', 1000, 'EUR', 'AUTOMATIC', 'CHECKOUT', 'pm_card_visa',
         'stripe', $3)`,
      [paymentId, clientId, pi],
    );
    const refundId = newId('ref');
    await ds.query(
      `INSERT INTO refunds (id, payment_id, status, amount, currency)
       VALUES ($1, $2, 'PENDING', 300, 'EUR')`,
      [refundId, paymentId],
    );
    const from = mark();
    const ch = testStripeId('ch');
    await deliver(
      stripeEventOf('charge.succeeded', {
        id: ch,
        object: 'charge',
        status: 'succeeded',
        payment_intent: pi,
        balance_transaction: { id: testStripeId('txn'), fee: 59, net: 941, currency: 'eur' },
        metadata: { payment_id: paymentId },
      }),
    );
    await deliver(
      stripeEventOf('payment_intent.succeeded', {
        id: pi,
        object: 'payment_intent',
        amount: 1000,
        amount_received: 1000,
        metadata: { payment_id: paymentId },
      }),
    );
    await deliver(
      stripeEventOf('refund.updated', {
        id: testStripeId('re'),
        object: 'refund',
        amount: 300,
        status: 'succeeded',
        payment_intent: pi,
        metadata: { refund_id: refundId },
      }),
    );
    const events = await eventsSince(from);
    expect(events.map((e) => e.subject)).toEqual([
      'unused.payments.evt.fee_recorded',
      'unused.payments.evt.succeeded',
      'unused.payments.evt.refunded',
      'unused.refunds.evt.succeeded',
    ]);
    expect(events[1].payload).toMatchObject({ amount: 1000, fee: 59, net: 941 });
    expect(events[3].payload).toMatchObject({
      paymentId,
      processor: 'stripe',
      refund: { id: refundId, status: 'SUCCEEDED', amount: 300, currency: 'EUR' },
    });
  });
});
