// A webhook arriving while the worker is still waiting for the processor's answer about the
// same payment: whichever records first moves the payment; the other changes nothing.
import {
  AuthorizeRequest,
  ParsedWebhook,
  ProcessorAdapter,
  ProcessorError,
  ProcessorPaymentResult,
  Subjects,
} from '../../libs/contracts/src';
import { Metrics } from '../../libs/observability/src';
import {
  ApiClient,
  ApiKeyService,
  IdempotencyStore,
  PaymentCommandHandler,
  PaymentIntakeService,
  PaymentMethodService,
  ProcessorRouter,
  WebhookApplicationService,
  WebhookIntakeService,
} from '../../libs/payments/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { quietLogger } from '../support/quiet-logger';

/** A "stripe" whose authorize answers only when the test says so; its webhooks are trusted. */
class SlowStripe implements ProcessorAdapter {
  readonly name = 'stripe';
  readonly calls: AuthorizeRequest[] = [];
  private release?: () => void;
  ownsToken(token: string) {
    return token === 'tok_slow';
  }
  async authorize(request: AuthorizeRequest): Promise<ProcessorPaymentResult> {
    this.calls.push(request);
    await new Promise<void>((resolve) => (this.release = resolve));
    return {
      status: 'succeeded',
      processorReference: 'pi_race',
      amountAuthorized: request.amount,
      amountCaptured: request.amount,
    };
  }
  answer() {
    this.release?.();
  }
  capture(): Promise<ProcessorPaymentResult> {
    throw new ProcessorError('not_supported', 'no capture');
  }
  cancel(): Promise<ProcessorPaymentResult> {
    throw new ProcessorError('not_supported', 'no cancel');
  }
  refund(): never {
    throw new ProcessorError('not_supported', 'no refund');
  }
  async retrieve() {
    return null;
  }
  parseWebhook(rawBody: Buffer): ParsedWebhook {
    const event = JSON.parse(rawBody.toString('utf8'));
    return {
      eventId: event.id,
      type: event.type,
      occurredAt: new Date(event.created * 1000),
      payload: event,
    };
  }
}

describe('webhook while the worker is processing the same payment (real Postgres)', () => {
  let db: TestDatabase;
  let client: ApiClient;
  const stripe = new SlowStripe();
  const subjects = new Subjects('unused');
  const metrics = new Metrics(false);
  let handler: PaymentCommandHandler;
  let intake: PaymentIntakeService;
  let webhooks: WebhookIntakeService;
  let app: WebhookApplicationService;

  beforeAll(async () => {
    db = await createTestDatabase();
    const ds = db.dataSource;
    const router = new ProcessorRouter([stripe]);
    app = new WebhookApplicationService(ds, subjects, metrics, quietLogger);
    handler = new PaymentCommandHandler(
      ds,
      router,
      subjects,
      metrics,
      quietLogger,
      { maxAttempts: 3, processorTimeoutMs: 10_000, unknownOutcomeRetryMs: 10 },
      undefined,
      undefined,
      app,
    );
    const idempotency = new IdempotencyStore(ds, 24);
    intake = new PaymentIntakeService(
      ds,
      idempotency,
      router,
      new PaymentMethodService(ds, idempotency, router),
      subjects,
      metrics,
      24,
    );
    webhooks = new WebhookIntakeService(ds, router, subjects, metrics, quietLogger);
    client = (await new ApiKeyService(ds, 0).create('race', ['payments:write'])).client;
  });
  afterAll(() => db.drop());

  it('one SUCCEEDED transition, one succeeded event, no error', async () => {
    const payment = await intake.createPayment(client, {
      idempotencyKey: 'race-1',
      amount: 500,
      currency: 'EUR',
      paymentMethod: 'tok_slow',
    });
    const authorizing = handler.handle({ v: 1, type: 'authorize', paymentId: payment.id });
    for (let i = 0; i < 200 && stripe.calls.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(stripe.calls).toHaveLength(1);
    const during = await db.dataSource.query(`SELECT status FROM payments WHERE id = $1`, [
      payment.id,
    ]);
    expect(during[0].status).toBe('PROCESSING');

    // Stripe's webhook overtakes the API answer (it does in production, often).
    const body = JSON.stringify({
      id: 'evt_race_1',
      object: 'event',
      type: 'payment_intent.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: 'pi_race',
          object: 'payment_intent',
          amount: 500,
          amount_received: 500,
          metadata: { payment_id: payment.id },
        },
      },
    });
    const { id } = await webhooks.receive('stripe', Buffer.from(body), 'trusted');
    await app.apply(id);

    stripe.answer();
    await expect(authorizing).resolves.toBeUndefined();

    const [row] = await db.dataSource.query(`SELECT * FROM payments WHERE id = $1`, [payment.id]);
    expect(row).toMatchObject({
      status: 'SUCCEEDED',
      amount_captured: 500,
      processor_reference: 'pi_race',
    });
    const events: { subject: string }[] = await db.dataSource.query(
      `SELECT subject FROM outbox WHERE payload->'payment'->>'id' = $1 ORDER BY id`,
      [payment.id],
    );
    expect(events.map((e) => e.subject).filter((s) => s.endsWith('.succeeded'))).toEqual([
      'unused.payments.evt.succeeded',
    ]);
    const [event] = await db.dataSource.query(
      `SELECT status, last_error FROM webhook_events WHERE id = $1`,
      [id],
    );
    expect(event).toEqual({ status: 'applied', last_error: null });
    const [attempt] = await db.dataSource.query(
      `SELECT outcome FROM payment_attempts WHERE payment_id = $1`,
      [payment.id],
    );
    expect(attempt.outcome).toBe('succeeded');
  });
});
