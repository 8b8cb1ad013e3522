import { DataSource, EntityManager } from 'typeorm';
import { PaymentsError, newId, transition } from '../../../domain/src';
import { PaymentCommand, Subjects } from '../../../contracts/src';
import { OutboxMessage, writeOutbox } from '../../../messaging/src';
import { Metrics } from '../../../observability/src';
import { ApiClient, isAdmin } from '../api-keys/scopes';
import { paymentEventMessage } from '../events';
import {
  IdempotencyScope,
  IdempotencyStore,
  translateLockTimeout,
} from '../idempotency/idempotency.store';
import { requestHash } from '../idempotency/request-hash';
import {
  PAYMENT_COLUMNS,
  PaymentView,
  REFUND_COLUMNS,
  RefundView,
  revivePaymentView,
  reviveRefundView,
  toPaymentView,
  toRefundView,
} from '../payment.view';
import { PaymentMethodService } from '../payment-methods/payment-method.service';
import { RouteDecision } from '../routing/route-decision';
import { ProcessorRouter } from '../routing/processor-router';
import {
  CreatePaymentInput,
  ValidCreatePayment,
  assertNoCardData,
  validIdempotencyKey,
  validOptionalAmount,
  validPaymentId,
  validReason,
} from './payment-input';
import { validateCreatePayment } from './payment-input';
import { GroupCommit, preparedSql } from '../../../persistence/src';

export interface CapturePaymentInput {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly amount?: number | null;
}
export interface CancelPaymentInput {
  readonly idempotencyKey: string;
  readonly paymentId: string;
}
export interface RefundPaymentInput {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly amount?: number | null;
  readonly reason?: string | null;
}

/**
 * A batch of new payments (parallel arrays, one element per request) in ONE statement: each
 * claims its idempotency key, and only a request whose key it claimed inserts its payment and
 * its outbox command. Atomic on its own, one round trip; a key already taken (also by an
 * earlier request of the same batch) inserts nothing. Answers the ids of the payments inserted.
 */
const CREATE_PAYMENTS_SQL = preparedSql(`
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                       $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                       $13::text[], $14::text[], $15::timestamptz[], $16::text[], $17::text[],
                       $18::text[], $19::text[])
    AS t(client_id, key, request_hash, id, response, amount, currency, capture_method, priority,
         payment_method, processor_pin, customer_id, description, metadata, created_at,
         outbox_id, command, route, country)
), claim AS (
  INSERT INTO idempotency_keys (client_id, key, operation, request_hash, resource_id, response, expires_at)
  SELECT client_id, key, 'createPayment', request_hash, id, response::jsonb,
         now() + make_interval(hours => $20) FROM input
  ON CONFLICT (client_id, key) DO NOTHING RETURNING resource_id
), payment AS (
  INSERT INTO payments (id, client_id, status, amount, currency, capture_method, priority, payment_method,
                        processor_pin, customer_id, description, metadata, created_at, updated_at, route, country)
  SELECT i.id, i.client_id, 'PENDING', i.amount, i.currency, i.capture_method, i.priority,
         i.payment_method, i.processor_pin, i.customer_id, i.description, i.metadata::jsonb,
         i.created_at, i.created_at, i.route::jsonb, i.country
    FROM input i JOIN claim c ON c.resource_id = i.id
  RETURNING id
), command AS (
  INSERT INTO outbox (id, subject, payload)
  SELECT i.outbox_id, $21, i.command::jsonb FROM input i JOIN payment p ON p.id = i.id
)
SELECT resource_id AS id FROM claim`);

/** One createPayment on its way to the database: the values of one element of the batch. */
interface PaymentToCreate {
  readonly clientId: string;
  readonly scope: IdempotencyScope;
  readonly payment: PaymentView;
  readonly processorPin: string | null;
  readonly country: string | null;
  readonly command: string;
}

/** Payments created by one statement at most, and such statements at once at most. */
const CREATE_BATCH = { maxBatch: 100, maxInFlight: 2 } as const;

/**
 * The payment mutations. Each validates, checks ownership and state, and commits the change,
 * the idempotency record and the outbox command together; the worker does the processor call.
 */
export class PaymentIntakeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly idempotency: IdempotencyStore,
    private readonly router: ProcessorRouter,
    private readonly paymentMethods: PaymentMethodService,
    private readonly subjects: Subjects,
    private readonly metrics: Metrics,
    private readonly idempotencyTtlHours: number,
    private readonly outboxWritten: () => void = () => undefined,
  ) {}

  /** Concurrent createPayment requests are inserted together (group commit, decisions #20). */
  private readonly creates = new GroupCommit<PaymentToCreate, boolean>(
    (batch) => this.insertPayments(batch),
    {
      ...CREATE_BATCH,
      onBatch: (size) =>
        this.metrics.groupCommitBatchSize.observe({ writer: 'payment_intake' }, size),
    },
  );

  /**
   * Inserts a batch in one statement; answers per request whether its key was claimed. If the
   * statement fails as a whole (a value refused, a lock timeout on one contended key), the
   * requests are inserted one by one, so each gets its own answer or error.
   */
  private async insertPayments(batch: readonly PaymentToCreate[]): Promise<boolean[]> {
    const rows = (await translateLockTimeout(() =>
      this.dataSource.query(CREATE_PAYMENTS_SQL, this.createParameters(batch)),
    )) as { id: string }[];
    const inserted = new Set(rows.map((r) => r.id));
    return batch.map((r) => inserted.has(r.payment.id));
  }

  private createParameters(requests: readonly PaymentToCreate[]): unknown[] {
    const column = <T>(f: (r: PaymentToCreate) => T) => requests.map(f);
    return [
      column((r) => r.clientId),
      column((r) => r.scope.key),
      column((r) => r.scope.requestHash),
      column((r) => r.payment.id),
      column((r) => JSON.stringify(r.payment)),
      column((r) => r.payment.amount),
      column((r) => r.payment.currency),
      column((r) => r.payment.captureMethod),
      column((r) => r.payment.priority),
      column((r) => r.payment.paymentMethod),
      column((r) => r.processorPin),
      column((r) => r.payment.customerId),
      column((r) => r.payment.description),
      column((r) => (r.payment.metadata === null ? null : JSON.stringify(r.payment.metadata))),
      column((r) => r.payment.createdAt),
      column(() => newId('obx')),
      column((r) => r.command),
      column((r) => JSON.stringify(r.payment.route)),
      column((r) => r.country),
      this.idempotencyTtlHours,
      this.subjects.command('authorize'),
    ];
  }

  async createPayment(client: ApiClient, input: CreatePaymentInput): Promise<PaymentView> {
    const valid = validateCreatePayment(input);
    const scope = this.scope(client, 'createPayment', valid.idempotencyKey, {
      ...valid,
      idempotencyKey: undefined,
    });
    const unrouted = this.newPayment(client, valid);
    const route = await this.route(client, valid, unrouted.id);
    const payment: PaymentView = { ...unrouted, route };
    const command: PaymentCommand = { v: 1, type: 'authorize', paymentId: payment.id };
    const claimed = await this.creates.submit({
      clientId: client.id,
      scope,
      payment,
      processorPin: valid.processor,
      country: valid.country,
      command: JSON.stringify(command),
    });
    if (claimed) {
      this.metrics.paymentsAccepted.inc({ currency: payment.currency });
      this.outboxWritten();
      return payment;
    }
    const existing = await this.idempotency.find(scope);
    if (!existing)
      throw new PaymentsError('IDEMPOTENCY_KEY_IN_USE', 'a request with this key is in progress');
    return revivePaymentView(this.idempotency.replayOf(existing, scope) as Record<string, unknown>);
  }

  /** Which processors would take this payment, in order, and why (also used by routePreview). */
  async route(
    client: ApiClient,
    valid: ValidCreatePayment,
    paymentId: string,
  ): Promise<RouteDecision> {
    const gateway = valid.paymentMethod.startsWith('gpm_');
    const tokens = gateway
      ? await this.paymentMethods.tokensFor(client, valid.paymentMethod)
      : this.router.tokensOfBareToken(valid.paymentMethod);
    return this.router.decide(
      {
        paymentId,
        amount: valid.amount,
        currency: valid.currency,
        paymentMethodType: gateway ? 'gateway' : [...tokens.keys()][0],
        country: valid.country,
        metadata: valid.metadata,
      },
      tokens,
      valid.processor,
    );
  }

  async capturePayment(client: ApiClient, input: CapturePaymentInput): Promise<PaymentView> {
    assertNoCardData(input);
    const key = validIdempotencyKey(input.idempotencyKey);
    const paymentId = validPaymentId(input.paymentId);
    const amount = validOptionalAmount(input.amount);
    const scope = this.scope(client, 'capturePayment', key, { paymentId, amount });
    const { response } = await this.idempotency.run(scope, async (tx) => {
      const payment = await this.lockPayment(tx, client, paymentId);
      if (payment.status !== 'AUTHORIZED' || payment.pendingOperation !== null) {
        throw PaymentsError.invalidState(
          payment.pendingOperation
            ? `a ${payment.pendingOperation} of this payment is already in progress`
            : `only an AUTHORIZED payment can be captured; this one is ${payment.status}`,
        );
      }
      const captureAmount = amount ?? payment.amountAuthorized;
      if (captureAmount > payment.amountAuthorized) {
        throw PaymentsError.badInput(
          'amount',
          `amount must be at most the authorized ${payment.amountAuthorized}`,
        );
      }
      const updated = await this.setPendingOperation(tx, paymentId, 'capture', captureAmount);
      await this.enqueue(tx, [{ v: 1, type: 'capture', paymentId, amount: captureAmount }]);
      return { resourceId: paymentId, response: updated };
    });
    this.outboxWritten();
    return revivePaymentView(response as unknown as Record<string, unknown>);
  }

  async cancelPayment(client: ApiClient, input: CancelPaymentInput): Promise<PaymentView> {
    assertNoCardData(input);
    const key = validIdempotencyKey(input.idempotencyKey);
    const paymentId = validPaymentId(input.paymentId);
    const scope = this.scope(client, 'cancelPayment', key, { paymentId });
    const { response } = await this.idempotency.run(scope, async (tx) => {
      const payment = await this.lockPayment(tx, client, paymentId);
      if (payment.pendingOperation !== null) {
        throw PaymentsError.invalidState(
          `a ${payment.pendingOperation} of this payment is already in progress`,
        );
      }
      if (payment.status === 'PENDING')
        return { resourceId: paymentId, response: await this.cancelUnsent(tx, payment) };
      if (payment.status !== 'AUTHORIZED' && payment.status !== 'REQUIRES_ACTION') {
        throw PaymentsError.invalidState(`a ${payment.status} payment cannot be canceled`);
      }
      const updated = await this.setPendingOperation(tx, paymentId, 'cancel');
      await this.enqueue(tx, [{ v: 1, type: 'cancel', paymentId }]);
      return { resourceId: paymentId, response: updated };
    });
    this.outboxWritten();
    return revivePaymentView(response as unknown as Record<string, unknown>);
  }

  async refundPayment(client: ApiClient, input: RefundPaymentInput): Promise<RefundView> {
    assertNoCardData(input);
    const key = validIdempotencyKey(input.idempotencyKey);
    const paymentId = validPaymentId(input.paymentId);
    const amount = validOptionalAmount(input.amount);
    const reason = validReason(input.reason);
    const scope = this.scope(client, 'refundPayment', key, { paymentId, amount, reason });
    const { response } = await this.idempotency.run(scope, async (tx) => {
      const payment = await this.lockPayment(tx, client, paymentId);
      if (payment.status !== 'SUCCEEDED') {
        throw PaymentsError.invalidState(
          `only a SUCCEEDED payment can be refunded; this one is ${payment.status}`,
        );
      }
      const [{ reserved }] = await tx.query(
        `SELECT COALESCE(sum(amount), 0)::bigint AS reserved FROM refunds WHERE payment_id = $1 AND status <> 'FAILED'`,
        [paymentId],
      );
      const refundable = payment.amountCaptured - Number(reserved);
      if (refundable <= 0)
        throw PaymentsError.invalidState('this payment has been refunded in full');
      const refundAmount = amount ?? refundable;
      if (refundAmount > refundable) {
        throw PaymentsError.badInput(
          'amount',
          `amount must be at most the refundable ${refundable}`,
        );
      }
      const [row] = await tx.query(
        `INSERT INTO refunds (id, payment_id, status, amount, currency, reason)
         VALUES ($1, $2, 'PENDING', $3, $4, $5) RETURNING ${REFUND_COLUMNS}`,
        [newId('ref'), paymentId, refundAmount, payment.currency, reason],
      );
      const refund = toRefundView(row);
      await this.enqueue(tx, [{ v: 1, type: 'refund', paymentId, refundId: refund.id }]);
      return { resourceId: refund.id, response: refund };
    });
    this.outboxWritten();
    return reviveRefundView(response as unknown as Record<string, unknown>);
  }

  private scope(
    client: ApiClient,
    operation: string,
    key: string,
    request: unknown,
  ): IdempotencyScope {
    return { clientId: client.id, key, operation, requestHash: requestHash(operation, request) };
  }

  private newPayment(client: ApiClient, valid: ValidCreatePayment): PaymentView {
    const now = new Date();
    return {
      id: newId('pay'),
      clientId: client.id,
      status: 'PENDING',
      amount: valid.amount,
      currency: valid.currency,
      amountAuthorized: 0,
      amountCaptured: 0,
      amountRefunded: 0,
      captureMethod: valid.captureMethod,
      priority: valid.priority,
      paymentMethod: valid.paymentMethod,
      processor: null,
      processorReference: null,
      failure: null,
      nextAction: null,
      pendingOperation: null,
      pendingCaptureAmount: null,
      processorPin: valid.processor,
      route: null,
      country: valid.country,
      customerId: valid.customerId,
      description: valid.description,
      metadata: valid.metadata,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** Locks the payment row; another client's payment is NOT_FOUND unless the caller is admin. */
  private async lockPayment(
    tx: EntityManager,
    client: ApiClient,
    paymentId: string,
  ): Promise<PaymentView> {
    const [row] = await tx.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1 FOR UPDATE`,
      [paymentId],
    );
    if (!row || (row.client_id !== client.id && !isAdmin(client)))
      throw PaymentsError.notFound('payment');
    return toPaymentView(row);
  }

  private async setPendingOperation(
    tx: EntityManager,
    paymentId: string,
    op: 'capture' | 'cancel',
    captureAmount: number | null = null,
  ): Promise<PaymentView> {
    const [rows] = await tx.query(
      `UPDATE payments SET pending_operation = $2, pending_capture_amount = $3, updated_at = now()
       WHERE id = $1 RETURNING ${PAYMENT_COLUMNS}`,
      [paymentId, op, captureAmount],
    );
    return toPaymentView(rows[0]);
  }

  /** A payment not yet sent to a processor is canceled here; its queued command becomes a no-op. */
  private async cancelUnsent(tx: EntityManager, payment: PaymentView): Promise<PaymentView> {
    const decision = transition(payment.status, 'CANCELED');
    if (decision.kind !== 'moved')
      throw PaymentsError.invalidState(`a ${payment.status} payment cannot be canceled`);
    const [rows] = await tx.query(
      `UPDATE payments SET status = 'CANCELED', updated_at = now() WHERE id = $1 RETURNING ${PAYMENT_COLUMNS}`,
      [payment.id],
    );
    const canceled = toPaymentView(rows[0]);
    await writeOutbox(tx, [paymentEventMessage(this.subjects, 'canceled', canceled)]);
    return canceled;
  }

  private async enqueue(tx: EntityManager, commands: PaymentCommand[]): Promise<void> {
    const messages: OutboxMessage[] = commands.map((c) => ({
      subject: this.subjects.command(c.type),
      payload: c,
    }));
    await writeOutbox(tx, messages);
  }
}
