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
import { preparedSql } from '../../../persistence/src';

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

// One statement claims the key, inserts the payment and its outbox command: it is atomic on
// its own, costs one round trip, and inserts nothing when the key was already taken.
const CREATE_PAYMENT_SQL = preparedSql(`
WITH claim AS (
  INSERT INTO idempotency_keys (client_id, key, operation, request_hash, resource_id, response, expires_at)
  VALUES ($1, $2, 'createPayment', $3, $4, $5::jsonb, now() + make_interval(hours => $6))
  ON CONFLICT (client_id, key) DO NOTHING RETURNING 1
), payment AS (
  INSERT INTO payments (id, client_id, status, amount, currency, capture_method, priority, payment_method,
                        processor_pin, customer_id, description, metadata, created_at, updated_at, route, country)
  SELECT $4, $1, 'PENDING', $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $16, $20::jsonb, $21 FROM claim
  RETURNING id
), command AS (
  INSERT INTO outbox (id, subject, payload) SELECT $17, $18, $19::jsonb FROM payment RETURNING id
)
SELECT count(*)::int AS claimed FROM claim`);

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
    const [row] = await translateLockTimeout(() =>
      this.dataSource.query(CREATE_PAYMENT_SQL, [
        client.id,
        scope.key,
        scope.requestHash,
        payment.id,
        JSON.stringify(payment),
        this.idempotencyTtlHours,
        payment.amount,
        payment.currency,
        payment.captureMethod,
        payment.priority,
        payment.paymentMethod,
        valid.processor,
        payment.customerId,
        payment.description,
        payment.metadata === null ? null : JSON.stringify(payment.metadata),
        payment.createdAt,
        newId('obx'),
        this.subjects.command('authorize'),
        JSON.stringify(command),
        JSON.stringify(route),
        valid.country,
      ]),
    );
    if (row.claimed === 1) {
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
