import { DataSource } from 'typeorm';
import {
  AuthorizeRequest,
  ProcessorAdapter,
  ProcessorError,
  ProcessorPaymentResult,
  Subjects,
} from '../../libs/contracts/src';
import { RetryLater } from '../../libs/messaging/src';
import { Metrics } from '../../libs/observability/src';
import {
  ApiClient,
  ApiKeyService,
  IdempotencyStore,
  PaymentCommandHandler,
  PaymentIntakeService,
  PaymentMethodService,
  ProcessorRouter,
} from '../../libs/payments/src';
import {
  recordSuccessesAtomically,
  startFirstAttempts,
} from '../../libs/payments/src/processing/payment-store';
import { TestDatabase, createTestDatabase } from '../support/database';
import { quietLogger } from '../support/quiet-logger';

type Script = (request: AuthorizeRequest) => Promise<ProcessorPaymentResult>;

/** A scripted processor: each token says what happens; every call is recorded. */
class ScriptedProcessor implements ProcessorAdapter {
  readonly name = 'scripted';
  readonly calls: AuthorizeRequest[] = [];
  constructor(private readonly scripts: Record<string, Script>) {}
  ownsToken(token: string) {
    return token in this.scripts;
  }
  authorize(request: AuthorizeRequest) {
    this.calls.push(request);
    return this.scripts[request.paymentMethodToken](request);
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
  parseWebhook(): never {
    throw new ProcessorError('not_supported', 'no webhooks');
  }
}

const ok = (r: AuthorizeRequest): ProcessorPaymentResult => ({
  status: 'succeeded',
  processorReference: `ref_${r.idempotencyKey}`,
  amountAuthorized: r.amount,
  amountCaptured: r.amount,
});

describe('payment command handler (real Postgres, scripted processor)', () => {
  let db: TestDatabase;
  let client: ApiClient;
  let timeouts = 0;
  let outages = 0;
  const resends = new Map<string, number>();
  const processor = new ScriptedProcessor({
    tok_ok: async (r) => ok(r),
    tok_timeout_once: async (r) => {
      if (timeouts++ === 0)
        throw new ProcessorError('timeout_unknown_outcome', 'socket hang up after send');
      return ok(r);
    },
    tok_timeout_then_refused: async (r) => {
      // Charged on the first send, then the processor is unreachable for the re-send.
      const n = (resends.get(r.idempotencyKey) ?? 0) + 1;
      resends.set(r.idempotencyKey, n);
      if (n === 1) throw new ProcessorError('timeout_unknown_outcome', 'dropped after charging');
      if (n === 2) throw new ProcessorError('unavailable', 'connection refused');
      return ok(r);
    },
    tok_down: async () => {
      outages++;
      throw new ProcessorError('unavailable', 'connection refused');
    },
    tok_decline: async () => {
      throw new ProcessorError('declined', 'declined', { declineCode: 'do_not_honor' });
    },
  });
  const subjects = new Subjects('unused');
  const metrics = new Metrics(false);
  let handler: PaymentCommandHandler;
  let intake: PaymentIntakeService;

  beforeAll(async () => {
    db = await createTestDatabase();
    const router = new ProcessorRouter([processor]);
    handler = new PaymentCommandHandler(db.dataSource, router, subjects, metrics, quietLogger, {
      maxAttempts: 3,
      processorTimeoutMs: 2000,
      unknownOutcomeRetryMs: 10,
    });
    const idempotency = new IdempotencyStore(db.dataSource, 24);
    intake = new PaymentIntakeService(
      db.dataSource,
      idempotency,
      router,
      new PaymentMethodService(db.dataSource, idempotency, router),
      subjects,
      metrics,
      24,
    );
    client = (await new ApiKeyService(db.dataSource, 0).create('handler', ['payments:write']))
      .client;
  });
  afterAll(() => db.drop());

  let seq = 0;
  const create = (token: string) =>
    intake.createPayment(client, {
      idempotencyKey: `k${seq++}`,
      amount: 500,
      currency: 'EUR',
      paymentMethod: token,
    });

  /** Runs the command the way JetStream would: redelivered after RetryLater, up to a bound. */
  async function deliver(paymentId: string, maxDeliveries = 6): Promise<number> {
    for (let delivery = 1; delivery <= maxDeliveries; delivery++) {
      try {
        await handler.handle({ v: 1, type: 'authorize', paymentId });
        return delivery;
      } catch (error) {
        if (!(error instanceof RetryLater)) throw error;
      }
    }
    return maxDeliveries;
  }

  const payment = async (id: string) =>
    (await db.dataSource.query(`SELECT * FROM payments WHERE id = $1`, [id]))[0];
  const attempts = (
    id: string,
  ): Promise<{ attempt_number: number; idempotency_key: string; outcome: string }[]> =>
    db.dataSource.query(
      `SELECT * FROM payment_attempts WHERE payment_id = $1 ORDER BY attempt_number`,
      [id],
    );
  const events = (id: string): Promise<{ subject: string }[]> =>
    db.dataSource.query(
      `SELECT subject FROM outbox WHERE payload->'payment'->>'id' = $1 ORDER BY id`,
      [id],
    );

  it('charges once, records the attempt and announces the event in the same transaction', async () => {
    const p = await create('tok_ok');
    await deliver(p.id);
    expect((await payment(p.id)).status).toBe('SUCCEEDED');
    expect(await attempts(p.id)).toMatchObject([
      { attempt_number: 1, idempotency_key: `${p.id}:authorize:1`, outcome: 'succeeded' },
    ]);
    expect((await events(p.id)).map((e) => e.subject)).toEqual(['unused.payments.evt.succeeded']);
  });

  it('a duplicate or redelivered command after completion makes no second processor call', async () => {
    const p = await create('tok_ok');
    await deliver(p.id);
    const calls = processor.calls.length;
    await deliver(p.id);
    await deliver(p.id);
    expect(processor.calls.length).toBe(calls);
    expect(await events(p.id)).toHaveLength(1);
  });

  it('an unknown outcome is asked again with the SAME key, never a new one', async () => {
    const p = await create('tok_timeout_once');
    const deliveries = await deliver(p.id);
    expect(deliveries).toBe(2);
    const keys = processor.calls.filter((c) => c.paymentId === p.id).map((c) => c.idempotencyKey);
    expect(keys).toEqual([`${p.id}:authorize:1`, `${p.id}:authorize:1`]);
    expect(await attempts(p.id)).toMatchObject([{ attempt_number: 1, outcome: 'succeeded' }]);
    expect((await payment(p.id)).status).toBe('SUCCEEDED');
  });

  it('a refused RE-send keeps the outcome unknown: no new attempt, no other key', async () => {
    const p = await create('tok_timeout_then_refused');
    await deliver(p.id);
    const keys = processor.calls.filter((c) => c.paymentId === p.id).map((c) => c.idempotencyKey);
    expect(keys).toEqual([`${p.id}:authorize:1`, `${p.id}:authorize:1`, `${p.id}:authorize:1`]);
    expect(await attempts(p.id)).toMatchObject([{ attempt_number: 1, outcome: 'succeeded' }]);
    expect((await payment(p.id)).status).toBe('SUCCEEDED');
  });

  it('a processor that provably did nothing is retried under new keys, then the payment fails', async () => {
    const p = await create('tok_down');
    outages = 0;
    await deliver(p.id);
    expect(outages).toBe(3);
    expect((await attempts(p.id)).map((a) => [a.idempotency_key, a.outcome])).toEqual([
      [`${p.id}:authorize:1`, 'failed'],
      [`${p.id}:authorize:2`, 'failed'],
      [`${p.id}:authorize:3`, 'failed'],
    ]);
    const row = await payment(p.id);
    expect(row.status).toBe('FAILED');
    expect(row.failure).toMatchObject({ code: 'processor_unavailable', retryable: true });
  });

  it('a decline fails the payment at once, with no retry', async () => {
    const p = await create('tok_decline');
    await deliver(p.id);
    expect(await attempts(p.id)).toHaveLength(1);
    expect((await payment(p.id)).failure).toMatchObject({
      code: 'card_declined',
      declineCode: 'do_not_honor',
      retryable: true,
    });
  });

  it('a command for a payment canceled before it was sent makes no processor call', async () => {
    const p = await create('tok_ok');
    await intake.cancelPayment(client, { idempotencyKey: `c${seq++}`, paymentId: p.id });
    const calls = processor.calls.length;
    await deliver(p.id);
    expect(processor.calls.length).toBe(calls);
    expect((await payment(p.id)).status).toBe('CANCELED');
  });

  it('ten concurrent deliveries of one command create one attempt row', async () => {
    const p = await create('tok_ok');
    await Promise.all(Array.from({ length: 10 }, () => deliver(p.id)));
    expect(await attempts(p.id)).toHaveLength(1);
    expect((await payment(p.id)).status).toBe('SUCCEEDED');
    expect(await events(p.id)).toHaveLength(1);
  });

  /** How many statements have recorded authorize answers so far (the group-commit metric). */
  const recordBatches = async () =>
    (await metrics.groupCommitBatchSize.get()).values.find(
      (v) =>
        v.metricName === 'group_commit_batch_size_count' && v.labels.writer === 'authorize_record',
    )?.value ?? 0;

  it('concurrent authorizes of many payments (first steps and answers written in batches): each charged once, one attempt, one event; a decline among them fails alone', async () => {
    const batchesBefore = await recordBatches();
    const payments = await Promise.all(Array.from({ length: 24 }, () => create('tok_ok')));
    const declined = await create('tok_decline');
    const callsBefore = processor.calls.length;
    // every payment delivered twice at the same moment, as a redelivery can
    await Promise.all([...payments, declined, ...payments].map((p) => deliver(p.id)));
    for (const p of payments) {
      expect(await payment(p.id)).toMatchObject({ status: 'SUCCEEDED', amount_captured: 500 });
      expect(await attempts(p.id)).toMatchObject([{ attempt_number: 1, outcome: 'succeeded' }]);
      expect((await events(p.id)).map((e) => e.subject)).toEqual(['unused.payments.evt.succeeded']);
    }
    expect((await payment(declined.id)).status).toBe('FAILED');
    // one call per payment, except a duplicate delivery that re-sent the same key
    const calls = processor.calls.slice(callsBefore);
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(25);
    expect(calls.every((c) => c.idempotencyKey.endsWith(':authorize:1'))).toBe(true);
    const batchesAfter = await recordBatches();
    // fewer recording statements than payments: answers were written together
    expect(batchesAfter - batchesBefore).toBeLessThan(24);
  });

  it('one answer twice in one batch (a re-send of the same attempt): the payment moves once, one event', async () => {
    const p = await create('tok_ok');
    const [started] = await startFirstAttempts(
      db.dataSource,
      ['scripted'],
      [{ paymentId: p.id, idempotencyKey: `${p.id}:authorize:1` }],
    );
    expect(started?.payment.status).toBe('PROCESSING');
    const record = (outbox: string) => ({
      paymentId: p.id,
      attemptId: started!.attemptId,
      latencyMs: 3,
      changes: { status: 'SUCCEEDED' as const, amountAuthorized: 500, amountCaptured: 500 },
      allowedFrom: ['PROCESSING' as const],
      event: {
        id: outbox,
        subject: 'unused.payments.evt.succeeded',
        payload: { payment: { id: p.id } },
      },
    });
    const answers = await recordSuccessesAtomically(db.dataSource, [
      record(`obx_a_${p.id}`),
      record(`obx_b_${p.id}`),
    ]);
    expect(answers.filter((a) => a !== null)).toHaveLength(1);
    expect(await payment(p.id)).toMatchObject({ status: 'SUCCEEDED', amount_captured: 500 });
    expect(await events(p.id)).toHaveLength(1);
    expect(await attempts(p.id)).toMatchObject([{ outcome: 'succeeded' }]);
  });
});

export type { DataSource };
