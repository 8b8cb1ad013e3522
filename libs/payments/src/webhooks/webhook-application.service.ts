import { DataSource, EntityManager } from 'typeorm';
import { PaymentStatus, RefundStatus, transition } from '../../../domain/src';
import { BalanceTransactionSnapshot, EventType, Subjects } from '../../../contracts/src';
import { OutboxMessage, RetryLater, outboxArrays, outboxInsertSql } from '../../../messaging/src';
import { Logger, Metrics } from '../../../observability/src';
import { GroupCommit, preparedSql } from '../../../persistence/src';
import { KnownFee, paymentEventMessage } from '../events';
import { refundEventMessage } from '../finance-events';
import { PaymentView, RefundView } from '../payment.view';
import { lockPayment, lockRefund, updatePayment, updateRefund } from '../processing/payment-store';
import { feeOf, paymentIdOfReference, recordChargeFact } from './charge-fee.store';
import { BalanceTransactionLookup, feeToLearn, withLearnedFee } from './learned-fee';
import { applyDispute } from './dispute-application';
import { applyPayout } from './payout-application';
import { WEBHOOK_EVENT_COLUMNS, WebhookEventView, toWebhookEventView } from './webhook-event';
import { Outcome, applied, ignored, orphan } from './webhook-outcome';
import { webhookEffectOf } from './webhook-effect-of';
import {
  ChargeEffect,
  PaymentEffect,
  PaymentMatch,
  RefundEffect,
  RefundsEffect,
  WebhookEffect,
} from './webhook-effect';

const FEE_KNOWN_SQL = preparedSql(
  `SELECT 1 FROM payment_fees WHERE balance_transaction_reference = $1 AND fee IS NOT NULL`,
);
const PAYMENT_OF_REFUND_SQL = preparedSql(`SELECT payment_id FROM refunds WHERE id = $1`);
const REFUND_BY_REFERENCE_SQL = preparedSql(
  `SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id
         WHERE r.processor_reference = $1 AND p.processor = $2`,
);
const REFUND_BY_ID_SQL = preparedSql(
  `SELECT r.id, r.processor_reference FROM refunds r JOIN payments p ON p.id = r.payment_id
       WHERE r.id = $1 AND p.processor = $2`,
);

/** Applies a stored webhook (the `webhook` command of the worker). */
/** What the intake already knew of a stored webhook (optional: older commands carry none). */
export interface WebhookHints {
  /** false: applying it needs no fee from the processor, so the fee pre-read is skipped. */
  readonly feeLookup?: boolean;
}

export interface WebhookApplier {
  apply(webhookEventId: string, hints?: WebhookHints): Promise<void>;
}

const REFUND_BEFORE_PAYMENT_RETRY_MS = 2000;

const UNAPPLIED_EVENT_SQL = preparedSql(
  `SELECT w.processor, w.type, w.payload FROM webhook_events w WHERE w.id = $1 AND w.status <> 'applied'`,
);
/**
 * The events of a batch, locked in id order: two batches sharing an event wait, never deadlock.
 * Planned at each execution, never prepared (persistence/src/prepared-statements.ts).
 */
const LOCK_EVENTS_SQL = `SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events WHERE id = ANY($1) ORDER BY id FOR UPDATE`;
/**
 * The outcomes of a batch's events and the outbox messages they produced, in one statement.
 * `w.id = ANY($1)` puts the events' primary key in the plan: joined only to the unnest, the
 * planner hashed it against a scan of the whole table (2 ms per batch at 20k events, 15 ms at
 * 50k, pg_stat_statements 2026-11-22).
 * Planned at each execution, never prepared (persistence/src/prepared-statements.ts).
 */
const RECORD_OUTCOMES_SQL = `WITH queued AS (${outboxInsertSql(4)}),
   outcome AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, status, reason))
   UPDATE webhook_events w SET status = o.status, last_error = o.reason, attempts = w.attempts + 1,
     applied_at = CASE WHEN o.status = 'applied' THEN now() ELSE w.applied_at END
   FROM outcome o WHERE w.id = ANY($1) AND w.id = o.id RETURNING w.id, w.applied_at`;

/** Events applied in one transaction at most, and such transactions at once at most. */
const APPLY_BATCH = { maxBatch: 64, maxInFlight: 2 } as const;

/** One event to apply, with the fee learned from the processor beforehand (if any). */
interface EventToApply {
  readonly id: string;
  readonly learned: BalanceTransactionSnapshot | null;
}

/** What applying one event did (null: nothing to do: unknown, or applied already). */
type AppliedEvent = { event: WebhookEventView; outcome: Outcome; appliedAt: Date | null } | null;

const EVENT_OF_STATUS: Readonly<Record<PaymentStatus, EventType | null>> = {
  PENDING: null,
  PROCESSING: null,
  REQUIRES_ACTION: 'requires_action',
  AUTHORIZED: 'authorized',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELED: 'canceled',
};

/**
 * Applies verified processor webhooks to payments and refunds, monotonically: every status goes
 * through the state machine, so a duplicate or an old event never moves anything backwards.
 * The event row is locked first, so concurrent deliveries of one event apply it once; the
 * change, its outbox event and the event's new status commit together.
 */
export class WebhookApplicationService implements WebhookApplier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly subjects: Subjects,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly outboxWritten: () => void = () => undefined,
    private readonly lookupBalanceTransaction?: BalanceTransactionLookup,
  ) {}

  /**
   * Concurrent commands are applied together (group commit) in ONE transaction: the events
   * locked, each effect in turn, all outcomes and their outbox messages in one statement. If
   * anything fails (an event to retry later, a deadlock with another batch), the transaction is
   * rolled back and each event is applied in a transaction of its own, so one event's failure
   * is only its own.
   */
  private readonly batches = new GroupCommit<EventToApply, AppliedEvent>(
    (events) => this.dataSource.transaction((tx) => this.applyTogether(tx, events)),
    {
      ...APPLY_BATCH,
      onBatch: (size) =>
        this.metrics.groupCommitBatchSize.observe({ writer: 'webhook_application' }, size),
    },
  );

  async apply(webhookEventId: string, hints: WebhookHints = {}): Promise<void> {
    let result: AppliedEvent;
    const learned = hints.feeLookup === false ? null : await this.learnFee(webhookEventId);
    try {
      result = await this.batches.submit({ id: webhookEventId, learned });
    } catch (error) {
      await this.recordFailure(webhookEventId, error);
      throw error;
    }
    if (!result) return;
    const { event, outcome, appliedAt } = result;
    this.metrics.webhookEventsApplied.inc({
      processor: event.processor,
      type: event.type,
      result: outcome.status,
    });
    if (outcome.status === 'orphan' && event.status !== 'orphan') {
      this.metrics.webhookOrphans.inc({ processor: event.processor });
      this.logger.warn(
        { webhookEventId, processor: event.processor, type: event.type, reason: outcome.reason },
        'webhook about something unknown to us kept as an orphan',
      );
    }
    if (appliedAt) {
      const lag = (appliedAt.getTime() - event.occurredAt.getTime()) / 1000;
      this.metrics.webhookLag.observe({ processor: event.processor }, Math.max(0, lag));
    }
    if (outcome.messages.length > 0) this.outboxWritten();
  }

  /**
   * A charge event naming its balance transaction without the fee: the processor is asked for
   * it BEFORE the transaction (a network call never holds row locks). Any failure leaves the fee
   * unknown, as before; the reconciliation pull reports it then (fee_mismatch).
   */
  private async learnFee(id: string): Promise<BalanceTransactionSnapshot | null> {
    if (!this.lookupBalanceTransaction) return null;
    const [row] = await this.dataSource.query(UNAPPLIED_EVENT_SQL, [id]);
    if (!row) return null;
    const transactionId = feeToLearn(webhookEffectOf(row.processor, row.type, row.payload));
    if (!transactionId) return null;
    const [known] = await this.dataSource.query(FEE_KNOWN_SQL, [transactionId]);
    if (known) return null;
    const labels = { processor: row.processor as string };
    try {
      const found = await this.lookupBalanceTransaction(row.processor, transactionId);
      this.metrics.webhookFeeLookups.inc({ ...labels, result: found ? 'found' : 'unknown' });
      return found;
    } catch (error) {
      this.metrics.webhookFeeLookups.inc({ ...labels, result: 'failed' });
      this.logger.warn(
        { err: error, webhookEventId: id, balanceTransaction: transactionId },
        'could not fetch the balance transaction of a charge; its fee stays unknown for now',
      );
      return null;
    }
  }

  private async applyTogether(
    tx: EntityManager,
    events: readonly EventToApply[],
  ): Promise<AppliedEvent[]> {
    const rows = (await tx.query(LOCK_EVENTS_SQL, [events.map((e) => e.id)])) as Record<
      string,
      unknown
    >[];
    const locked = new Map(rows.map((row) => [row.id as string, toWebhookEventView(row)]));
    const done = new Set<string>();
    type Result = { event: WebhookEventView; outcome: Outcome };
    const results: Result[] = [];
    const answers: (Result | null)[] = [];
    for (const { id, learned } of events) {
      const event = locked.get(id);
      if (!event) {
        this.logger.warn({ webhookEventId: id }, 'webhook command for an unknown event ignored');
      }
      if (!event || event.status === 'applied' || done.has(id)) {
        answers.push(null);
        continue;
      }
      done.add(id);
      const mapped = webhookEffectOf(event.processor, event.type, event.payload);
      const effect = learned ? withLearnedFee(mapped, learned) : mapped;
      const result = { event, outcome: await this.applyEffect(tx, event, effect) };
      results.push(result);
      answers.push(result);
    }
    const appliedAt = await this.recordOutcomes(tx, results);
    return answers.map((a) => a && { ...a, appliedAt: appliedAt.get(a.event.id) ?? null });
  }

  private async recordOutcomes(
    tx: EntityManager,
    results: readonly { event: WebhookEventView; outcome: Outcome }[],
  ): Promise<Map<string, Date | null>> {
    if (results.length === 0) return new Map();
    // A statement whose top level is an UPDATE answers [rows, count] through TypeORM.
    const [updated] = (await tx.query(RECORD_OUTCOMES_SQL, [
      results.map((r) => r.event.id),
      results.map((r) => r.outcome.status),
      results.map((r) => r.outcome.reason),
      ...outboxArrays(results.flatMap((r) => r.outcome.messages)),
    ])) as [{ id: string; applied_at: Date | string | null }[], number];
    return new Map(
      updated.map((row) => [row.id, row.applied_at ? new Date(row.applied_at) : null]),
    );
  }

  private applyEffect(
    tx: EntityManager,
    event: WebhookEventView,
    effect: WebhookEffect,
  ): Promise<Outcome> {
    const { processor } = event;
    switch (effect.kind) {
      case 'ignore':
        return Promise.resolve(ignored(effect.reason));
      case 'payment':
        return this.applyPayment(tx, processor, effect);
      case 'refunds':
        return this.applyRefunds(tx, processor, effect);
      case 'charge':
        return this.applyCharge(tx, processor, effect);
      case 'dispute':
        return applyDispute(tx, this.subjects, processor, effect, event.occurredAt);
      case 'payout':
        return applyPayout(tx, this.subjects, processor, effect);
    }
  }

  /**
   * Remembers the payment's charge and, when its balance transaction came expanded, the fee:
   * `payments.evt.fee_recorded` announces it once, whatever the payment's status.
   */
  private async applyCharge(
    tx: EntityManager,
    processor: string,
    effect: ChargeEffect,
  ): Promise<Outcome> {
    const found = await this.findPayment(tx, processor, effect.match);
    if (typeof found === 'string')
      return found === 'unknown' ? orphan(describe(effect.match)) : ignored(found);
    const { newlyKnown } = await recordChargeFact(tx, found.id, processor, effect.charge);
    return applied(newlyKnown ? [this.feeRecorded(found, newlyKnown)] : []);
  }

  private feeRecorded(payment: PaymentView, fee: KnownFee): OutboxMessage {
    return paymentEventMessage(this.subjects, 'fee_recorded', payment, { fee });
  }

  private async applyPayment(
    tx: EntityManager,
    processor: string,
    effect: PaymentEffect,
  ): Promise<Outcome> {
    const found = await this.findPayment(tx, processor, effect.match);
    if (typeof found === 'string')
      return found === 'unknown' ? orphan(describe(effect.match)) : ignored(found);
    const payment = found;
    const charge = effect.charge
      ? await recordChargeFact(tx, payment.id, processor, effect.charge)
      : null;
    const feeMessages = charge?.newlyKnown ? [this.feeRecorded(payment, charge.newlyKnown)] : [];
    if (effect.status === null) {
      return feeMessages.length > 0
        ? applied(feeMessages)
        : ignored('no status change (processing)');
    }
    const decision = transition(payment.status, effect.status);
    if (decision.kind === 'refused') {
      if (feeMessages.length > 0) return applied(feeMessages);
      return ignored(`stale: payment is ${payment.status}, event says ${effect.status}`);
    }
    const moved = decision.kind === 'moved';
    const updated = await updatePayment(tx, payment, {
      status: effect.status,
      processorReference: effect.match.processorReference,
      ...(effect.amountAuthorized !== undefined
        ? { amountAuthorized: effect.amountAuthorized }
        : {}),
      ...(effect.amountCaptured !== undefined ? { amountCaptured: effect.amountCaptured } : {}),
      ...(effect.failure !== undefined ? { failure: effect.failure } : {}),
      ...(effect.nextAction !== undefined ? { nextAction: effect.nextAction } : {}),
      // A pending capture or cancel is moot once the processor reports a final status.
      clearPendingOperation: moved && ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(effect.status),
    });
    if (!updated || !moved) return applied(feeMessages);
    if (updated.processor) {
      this.metrics.paymentOutcomes.inc({ processor: updated.processor, status: effect.status });
    }
    // A capture of an authorization is announced as the worker announces it: `captured`.
    const type =
      payment.status === 'AUTHORIZED' && effect.status === 'SUCCEEDED'
        ? 'captured'
        : EVENT_OF_STATUS[effect.status];
    if (!type) return applied(feeMessages);
    const amount = effect.status === 'SUCCEEDED' ? updated.amountCaptured : undefined;
    const fee = await feeOf(tx, updated.id);
    return applied([
      paymentEventMessage(this.subjects, type, updated, { amount, fee }),
      ...feeMessages,
    ]);
  }

  /**
   * Our payment for this processor object, locked. By reference first; by our id from the
   * metadata only while the payment has no other reference (an event about an earlier intent
   * of the same payment must not decide it).
   */
  private async findPayment(
    tx: EntityManager,
    processor: string,
    match: PaymentMatch,
  ): Promise<PaymentView | 'unknown' | string> {
    if (match.processorReference) {
      const id = await paymentIdOfReference(tx, processor, match.processorReference);
      if (id) return (await lockPayment(tx, id)) ?? 'unknown';
    }
    if (!match.paymentId) return 'unknown';
    const payment = await lockPayment(tx, match.paymentId);
    if (!payment) return 'unknown';
    if (payment.processor !== processor) {
      return `payment ${payment.id} is at ${payment.processor ?? 'no processor'}, not ${processor}`;
    }
    if (
      payment.processorReference &&
      match.processorReference &&
      payment.processorReference !== match.processorReference
    ) {
      return `event is about ${match.processorReference}; payment ${payment.id} is ${payment.processorReference}`;
    }
    return payment;
  }

  private async applyRefunds(
    tx: EntityManager,
    processor: string,
    effect: RefundsEffect,
  ): Promise<Outcome> {
    const messages: OutboxMessage[] = [];
    const unknown: string[] = [];
    const stale: string[] = [];
    for (const refundEffect of effect.refunds) {
      const result = await this.applyRefund(tx, processor, refundEffect);
      if (result === 'unknown') unknown.push(refundEffect.processorReference ?? '?');
      else if (typeof result === 'string') stale.push(result);
      else messages.push(...result);
    }
    if (unknown.length > 0 && unknown.length === effect.refunds.length) {
      return orphan(`no refund of ours for ${unknown.join(', ')} (${describe(effect.payment)})`);
    }
    if (messages.length === 0 && stale.length > 0) return ignored(stale.join('; '));
    return applied(messages);
  }

  /**
   * Moves one refund: PENDING → SUCCEEDED adds its amount to the payment (once: only that
   * transition does), SUCCEEDED → FAILED is a reversal and takes it back.
   */
  private async applyRefund(
    tx: EntityManager,
    processor: string,
    effect: RefundEffect,
  ): Promise<OutboxMessage[] | 'unknown' | string> {
    const refundId = await this.findRefundId(tx, processor, effect);
    if (!refundId) return 'unknown';
    const [{ payment_id: paymentId }] = await tx.query(PAYMENT_OF_REFUND_SQL, [refundId]);
    // Payment before refund, the order the worker locks them in.
    const payment = (await lockPayment(tx, paymentId)) as PaymentView;
    const refund = (await lockRefund(tx, refundId)) as RefundView;
    if (effect.amount !== refund.amount) {
      this.logger.warn(
        { refundId, ours: refund.amount, processor: effect.amount },
        'refund amount differs from the processor; our amount is booked',
      );
    }
    const to = effect.status;
    const change = refundTransition(refund.status, to);
    if (change === 'moved' && to === 'SUCCEEDED' && payment.status !== 'SUCCEEDED') {
      // The payment's own success is still on its way (events arrive in any order): wait for it.
      throw new RetryLater(
        REFUND_BEFORE_PAYMENT_RETRY_MS,
        'refund reported before the payment succeeded',
      );
    }
    if (change === 'refused')
      return `stale: refund ${refundId} is ${refund.status}, event says ${to}`;
    if (change === 'unchanged') {
      if (!refund.processorReference && effect.processorReference) {
        await updateRefund(tx, refundId, {
          status: refund.status,
          processorReference: effect.processorReference,
        });
      }
      return [];
    }
    const updatedRefund = await updateRefund(tx, refundId, {
      status: to,
      processorReference: effect.processorReference ?? undefined,
      ...(effect.failure ? { failure: effect.failure } : {}),
    });
    if (to === 'SUCCEEDED') {
      const updated = (await updatePayment(tx, payment, {
        amountRefundedDelta: refund.amount,
      })) as PaymentView;
      return [
        paymentEventMessage(this.subjects, 'refunded', updated, {
          amount: refund.amount,
          refund: updatedRefund,
        }),
        refundEventMessage(this.subjects, 'succeeded', updated.processor, updatedRefund),
      ];
    }
    // FAILED: a reversal of money already counted, or a refund that never moved money.
    const reversal = refund.status === 'SUCCEEDED';
    const updated = reversal
      ? ((await updatePayment(tx, payment, { amountRefundedDelta: -refund.amount })) as PaymentView)
      : payment;
    return [
      paymentEventMessage(this.subjects, 'refund_failed', updated, {
        ...(reversal ? { amount: refund.amount } : {}),
        refund: updatedRefund,
      }),
      refundEventMessage(this.subjects, 'failed', updated.processor, updatedRefund),
    ];
  }

  private async findRefundId(
    tx: EntityManager,
    processor: string,
    effect: RefundEffect,
  ): Promise<string | null> {
    if (effect.processorReference) {
      const [row] = await tx.query(REFUND_BY_REFERENCE_SQL, [effect.processorReference, processor]);
      if (row) return row.id;
    }
    if (!effect.refundId) return null;
    const [row] = await tx.query(REFUND_BY_ID_SQL, [effect.refundId, processor]);
    if (!row) return null;
    // Our id names it, but the processor already gave it another reference: not this one.
    if (
      row.processor_reference &&
      effect.processorReference &&
      row.processor_reference !== effect.processorReference
    ) {
      return null;
    }
    return row.id;
  }

  private async recordFailure(id: string, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    try {
      const [rows]: [{ processor: string; type: string }[], number] = await this.dataSource.query(
        `UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, last_error = $2
         WHERE id = $1 AND status <> 'applied' RETURNING processor, type`,
        [id, message.slice(0, 500)],
      );
      for (const row of rows) {
        this.metrics.webhookEventsApplied.inc({
          processor: row.processor,
          type: row.type,
          result: 'failed',
        });
      }
    } catch (recordError) {
      this.logger.error(
        { err: recordError, webhookEventId: id },
        'could not record webhook failure',
      );
    }
    if (error instanceof RetryLater) {
      this.logger.info({ webhookEventId: id, reason: message }, 'webhook deferred; will retry');
    } else {
      this.logger.error(
        { err: error, webhookEventId: id },
        'applying a webhook failed; will retry',
      );
    }
  }
}

/** Refunds only move forward: PENDING → SUCCEEDED | FAILED, and SUCCEEDED → FAILED (reversal). */
export function refundTransition(
  from: RefundStatus,
  to: RefundStatus,
): 'moved' | 'unchanged' | 'refused' {
  if (from === to) return 'unchanged';
  if (from === 'PENDING') return 'moved';
  return from === 'SUCCEEDED' && to === 'FAILED' ? 'moved' : 'refused';
}

function describe(match: PaymentMatch): string {
  const parts = [
    match.processorReference ? `reference ${match.processorReference}` : null,
    match.paymentId ? `payment_id ${match.paymentId}` : null,
  ].filter(Boolean);
  return parts.length > 0
    ? `no payment of ours for ${parts.join(' / ')}`
    : 'event names no payment';
}
