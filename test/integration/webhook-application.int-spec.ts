import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { newId } from '../../libs/domain/src';
import { ParsedWebhook, ProcessorAdapter, Subjects } from '../../libs/contracts/src';
import { RetryLater } from '../../libs/messaging/src';
import { Metrics } from '../../libs/observability/src';
import {
  ApiKeyService,
  ProcessorRouter,
  WebhookApplicationService,
  WebhookIntakeService,
} from '../../libs/payments/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { quietLogger } from '../support/quiet-logger';

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

let stripeSeq = 0;
const stripeId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${stripeSeq++}`;

describe('webhook application (real Postgres)', () => {
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
    clientId = (await new ApiKeyService(ds, 0).create('webhooks', ['admin'])).client.id;
  });
  afterAll(() => db.drop());

  async function insertPayment(status: string, reference: string, amount = 1000): Promise<string> {
    const id = newId('pay');
    await ds.query(
      `INSERT INTO payments (id, client_id, status, amount, currency, capture_method, priority,
         payment_method, processor, processor_reference)
       VALUES ($1, $2, $3, $4, 'EUR', 'AUTOMATIC', 'CHECKOUT', 'pm_card_visa', 'stripe', $5)`,
      [id, clientId, status, amount, reference],
    );
    return id;
  }

  async function insertRefund(paymentId: string, amount: number): Promise<string> {
    const id = newId('ref');
    await ds.query(
      `INSERT INTO refunds (id, payment_id, status, amount, currency) VALUES ($1, $2, 'PENDING', $3, 'EUR')`,
      [id, paymentId, amount],
    );
    return id;
  }

  const intentEvent = (
    type: string,
    intent: Record<string, unknown>,
    id = stripeId('evt'),
  ): Record<string, unknown> => ({
    id,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object: { object: 'payment_intent', amount: 1000, ...intent } },
  });

  const receive = (event: unknown) =>
    intake.receive('stripe', Buffer.from(JSON.stringify(event)), 'trusted');

  const paymentRow = async (id: string) =>
    (await ds.query(`SELECT * FROM payments WHERE id = $1`, [id]))[0];
  const eventsOf = async (paymentId: string): Promise<string[]> =>
    (
      await ds.query(
        `SELECT subject FROM outbox WHERE payload->'payment'->>'id' = $1 ORDER BY id`,
        [paymentId],
      )
    ).map((r: { subject: string }) => r.subject);
  const webhookRow = async (id: string) =>
    (await ds.query(`SELECT * FROM webhook_events WHERE id = $1`, [id]))[0];

  it('stores an event once with its command; a repeat stores nothing new', async () => {
    const event = intentEvent('payment_intent.processing', { id: stripeId('pi') });
    const first = await receive(event);
    const again = await receive(event);
    expect(first).toMatchObject({ received: true, duplicate: false });
    expect(again).toEqual({ received: true, duplicate: true, id: first.id });
    const commands = await ds.query(
      `SELECT payload FROM outbox WHERE payload->>'webhookEventId' = $1`,
      [first.id],
    );
    // an intent still processing names no charge whose fee is unknown: no lookup needed
    expect(commands).toEqual([
      { payload: { v: 1, type: 'webhook', webhookEventId: first.id, feeLookup: false } },
    ]);
  });

  it('concurrent receipts stored together: each new event once, repeats answer its id, a body Postgres refuses fails alone', async () => {
    const events = Array.from({ length: 12 }, () =>
      intentEvent('payment_intent.processing', { id: stripeId('pi') }),
    );
    const repeated = events[3];
    const bad = intentEvent('payment_intent.processing', { id: stripeId('pi'), note: 'a\u0000b' });
    const received = await Promise.allSettled(
      [...events, repeated, repeated, bad].map((e) => receive(e)),
    );
    const answers = received.slice(0, 14).map((r) => (r.status === 'fulfilled' ? r.value : r));
    expect(received[14]).toMatchObject({
      status: 'rejected',
      reason: { name: 'WebhookRejected', reason: 'malformed' },
    });
    expect(answers.filter((a) => 'duplicate' in a && a.duplicate === false)).toHaveLength(12);
    const ofRepeat = [answers[3], answers[12], answers[13]] as { id: string; duplicate: boolean }[];
    expect(new Set(ofRepeat.map((a) => a.id)).size).toBe(1);
    expect(ofRepeat.filter((a) => !a.duplicate)).toHaveLength(1);
    const ids = answers.slice(0, 12).map((a) => (a as { id: string }).id);
    const [{ stored, commands }] = await ds.query(
      `SELECT (SELECT count(*)::int FROM webhook_events WHERE id = ANY($1)) AS stored,
              (SELECT count(*)::int FROM outbox WHERE payload->>'webhookEventId' = ANY($1)) AS commands`,
      [ids],
    );
    expect({ stored, commands }).toEqual({ stored: 12, commands: 12 });
    const [{ badStored }] = await ds.query(
      `SELECT count(*)::int AS "badStored" FROM webhook_events WHERE processor_event_id = $1`,
      [bad.id],
    );
    expect(badStored).toBe(0);
  });

  it('concurrent commands applied together; one that must wait fails alone and the rest commit', async () => {
    const payments = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const pi = stripeId('pi');
        return { pi, id: await insertPayment('PROCESSING', pi) };
      }),
    );
    const succeeded = await Promise.all(
      payments.map(({ pi, id }) =>
        receive(
          intentEvent('payment_intent.succeeded', {
            id: pi,
            amount_received: 1000,
            metadata: { payment_id: id },
          }),
        ),
      ),
    );
    // a refund reported while its payment (not in the batch) is still processing: RetryLater
    const early = { pi: stripeId('pi'), id: '' };
    early.id = await insertPayment('PROCESSING', early.pi);
    const refundId = await insertRefund(early.id, 200);
    const refundEvent = await receive({
      id: stripeId('evt'),
      type: 'refund.updated',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: stripeId('re'),
          object: 'refund',
          amount: 200,
          status: 'succeeded',
          payment_intent: early.pi,
          metadata: { refund_id: refundId },
        },
      },
    });
    const results = await Promise.allSettled([
      app.apply(refundEvent.id),
      ...succeeded.map(({ id }) => app.apply(id)),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(RetryLater) });
    expect(results.slice(1).every((r) => r.status === 'fulfilled')).toBe(true);
    for (const { id } of payments) {
      expect(await paymentRow(id)).toMatchObject({ status: 'SUCCEEDED', amount_captured: 1000 });
      expect(await eventsOf(id)).toEqual(['unused.payments.evt.succeeded']);
    }
    for (const { id } of succeeded) {
      expect(await webhookRow(id)).toMatchObject({ status: 'applied', attempts: 1 });
    }
    expect(await webhookRow(refundEvent.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await paymentRow(early.id)).status).toBe('PROCESSING');
    // redelivered once its payment succeeded: applied
    const paid = await receive(
      intentEvent('payment_intent.succeeded', {
        id: early.pi,
        amount_received: 1000,
        metadata: { payment_id: early.id },
      }),
    );
    await app.apply(paid.id);
    await app.apply(refundEvent.id);
    expect(await paymentRow(early.id)).toMatchObject({ amount_refunded: 200 });
    expect(await webhookRow(refundEvent.id)).toMatchObject({ status: 'applied', attempts: 2 });
  });

  it('the same event applied 10 times concurrently: one transition, one outbox event', async () => {
    const pi = stripeId('pi');
    const paymentId = await insertPayment('REQUIRES_ACTION', pi);
    const { id } = await receive(
      intentEvent('payment_intent.succeeded', {
        id: pi,
        amount_received: 1000,
        metadata: { payment_id: paymentId },
      }),
    );
    await Promise.all(Array.from({ length: 10 }, () => app.apply(id)));
    const payment = await paymentRow(paymentId);
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amount_captured: 1000 });
    expect(await eventsOf(paymentId)).toEqual(['unused.payments.evt.succeeded']);
    expect(await webhookRow(id)).toMatchObject({ status: 'applied', attempts: 1 });
  });

  it('never moves a payment backwards: a late requires_action is ignored with the reason', async () => {
    const pi = stripeId('pi');
    const paymentId = await insertPayment('SUCCEEDED', pi);
    const { id } = await receive(intentEvent('payment_intent.requires_action', { id: pi }));
    await app.apply(id);
    expect((await paymentRow(paymentId)).status).toBe('SUCCEEDED');
    expect(await webhookRow(id)).toMatchObject({
      status: 'ignored',
      last_error: expect.stringMatching(/stale/),
    });
    expect(await eventsOf(paymentId)).toEqual([]);
  });

  it('an intent unknown to us is kept as an orphan and counted; unknown types are ignored', async () => {
    const before = (await metrics.webhookOrphans.get()).values[0]?.value ?? 0;
    const { id } = await receive(intentEvent('payment_intent.succeeded', { id: stripeId('pi') }));
    await app.apply(id);
    await app.apply(id);
    expect(await webhookRow(id)).toMatchObject({ status: 'orphan', attempts: 2 });
    expect((await metrics.webhookOrphans.get()).values[0]?.value).toBe(before + 1);
    const other = await receive({
      ...intentEvent('customer.created', {}),
      type: 'customer.created',
    });
    await app.apply(other.id);
    expect(await webhookRow(other.id)).toMatchObject({ status: 'ignored' });
  });

  it('an event about an earlier intent of the payment does not decide it', async () => {
    const paymentId = await insertPayment('PROCESSING', stripeId('pi'));
    const { id } = await receive(
      intentEvent('payment_intent.payment_failed', {
        id: stripeId('pi'),
        metadata: { payment_id: paymentId },
      }),
    );
    await app.apply(id);
    expect((await paymentRow(paymentId)).status).toBe('PROCESSING');
    expect((await webhookRow(id)).status).toBe('ignored');
  });

  it('a refund that fails after it succeeded is reversed, and counted once each way', async () => {
    const pi = stripeId('pi');
    const paymentId = await insertPayment('SUCCEEDED', pi);
    await ds.query(`UPDATE payments SET amount_captured = 1000 WHERE id = $1`, [paymentId]);
    const refundId = await insertRefund(paymentId, 300);
    const refund = (status: string) => ({
      id: 're_x' + refundId.slice(-8),
      object: 'refund',
      amount: 300,
      status,
      payment_intent: pi,
      metadata: { refund_id: refundId },
    });
    const event = (type: string, status: string) => ({
      id: stripeId('evt'),
      type,
      created: Math.floor(Date.now() / 1000),
      data: { object: refund(status) },
    });
    for (const e of [
      event('refund.created', 'succeeded'),
      event('refund.updated', 'succeeded'),
      event('refund.failed', 'failed'),
      event('refund.updated', 'succeeded'),
    ]) {
      await app.apply((await receive(e)).id);
    }
    expect(await paymentRow(paymentId)).toMatchObject({ amount_refunded: 0 });
    expect((await ds.query(`SELECT status FROM refunds WHERE id = $1`, [refundId]))[0].status).toBe(
      'FAILED',
    );
    expect(await eventsOf(paymentId)).toEqual([
      'unused.payments.evt.refunded',
      'unused.payments.evt.refund_failed',
    ]);
  });

  it('property: a lifecycle in any order, with duplicates, ends in the same state', async () => {
    const run = async (order: number[]) => {
      const pi = stripeId('pi');
      const paymentId = await insertPayment('PROCESSING', pi);
      const refundA = await insertRefund(paymentId, 400);
      const refundB = await insertRefund(paymentId, 600);
      const reA = stripeId('re');
      const reB = stripeId('re');
      const listed = (id: string, refundId: string, amount: number) => ({
        id,
        object: 'refund',
        amount,
        status: 'succeeded',
        payment_intent: pi,
        metadata: { refund_id: refundId },
      });
      const charge = (amountRefunded: number, refunds: unknown[]) => ({
        id: stripeId('evt'),
        type: 'charge.refunded',
        created: Math.floor(Date.now() / 1000),
        data: {
          object: {
            id: 'ch_1',
            object: 'charge',
            payment_intent: pi,
            amount_refunded: amountRefunded,
            metadata: { payment_id: paymentId },
            refunds: { data: refunds },
          },
        },
      });
      const lifecycle = [
        intentEvent('payment_intent.requires_action', {
          id: pi,
          metadata: { payment_id: paymentId },
          next_action: { type: 'use_stripe_sdk' },
        }),
        intentEvent('payment_intent.succeeded', {
          id: pi,
          amount_received: 1000,
          metadata: { payment_id: paymentId },
        }),
        charge(400, [listed(reA, refundA, 400)]),
        charge(1000, [listed(reB, refundB, 600), listed(reA, refundA, 400)]),
      ];
      const stored: string[] = [];
      for (const index of order) {
        const { id } = await receive(lifecycle[index]);
        stored.push(id);
        await app.apply(id).catch((error) => {
          if (!(error instanceof RetryLater)) throw error;
        });
      }
      // JetStream redelivers what asked to be retried later; do the same until all settle.
      for (const id of new Set(stored)) await app.apply(id);
      const payment = await paymentRow(paymentId);
      const refunds = await ds.query(
        `SELECT status, processor_reference FROM refunds WHERE payment_id = $1 ORDER BY amount`,
        [paymentId],
      );
      const events = await eventsOf(paymentId);
      return {
        status: payment.status,
        captured: payment.amount_captured,
        refunded: payment.amount_refunded,
        refunds: refunds.map((r: { status: string }) => r.status),
        refundReferences: refunds.map((r: { processor_reference: string }) =>
          r.processor_reference === reA ? 'A' : r.processor_reference === reB ? 'B' : null,
        ),
        succeededEvents: events.filter((s) => s.endsWith('.succeeded')).length,
        refundedEvents: events.filter((s) => s.endsWith('.refunded')).length,
      };
    };
    const everyEventAtLeastOnce = fc
      .array(fc.integer({ min: 0, max: 3 }), { maxLength: 6 })
      .chain((extra) =>
        fc.shuffledSubarray([0, 1, 2, 3, ...extra], { minLength: 4 + extra.length }),
      );
    await fc.assert(
      fc.asyncProperty(everyEventAtLeastOnce, async (order) => {
        expect(await run(order)).toEqual({
          status: 'SUCCEEDED',
          captured: 1000,
          refunded: 1000,
          refunds: ['SUCCEEDED', 'SUCCEEDED'],
          refundReferences: ['A', 'B'],
          succeededEvents: 1,
          refundedEvents: 2,
        });
      }),
      { numRuns: 40 },
    );
  });
});
