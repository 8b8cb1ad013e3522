import { DataSource, EntityManager } from 'typeorm';
import { PAYMENT_STATUSES, PaymentStatus, canTransition, newId } from '../../../domain/src';
import {
  EventType,
  PaymentCommand,
  ProcessorAdapter,
  ProcessorError,
  ProcessorLane,
  ProcessorPaymentResult,
  ProcessorPaymentStatus,
  ProcessorRefundResult,
  Subjects,
} from '../../../contracts/src';
import { OutboxMessage, RetryLater, writeOutbox } from '../../../messaging/src';
import { Logger, Metrics } from '../../../observability/src';
import { GroupCommit } from '../../../persistence/src';
import { paymentEventMessage } from '../events';
import { refundEventMessage } from '../finance-events';
import { PaymentView } from '../payment.view';
import { RouteCandidate } from '../routing/route-decision';
import type { WebhookApplier } from '../webhooks/webhook-application.service';
import { ProcessorRouter } from '../routing/processor-router';
import {
  AttemptRecord,
  ProcessorOperation,
  chooseProcessor,
  failureFrom,
  nextAttemptStep,
  processorIdempotencyKey,
  retryDelayMs,
} from './attempt-policy';
import {
  PaymentChanges,
  completeAttempt,
  insertAttempt,
  latestAttempt,
  lockPayment,
  lockRefund,
  SuccessRecord,
  recordSuccessesAtomically,
  FirstAttemptRequest,
  startFirstAttempts,
  updatePayment,
  updateRefund,
} from './payment-store';

export interface CommandHandlerOptions {
  readonly maxAttempts: number;
  readonly processorTimeoutMs: number;
  /** Delay before an unknown outcome is asked again (same idempotency key). */
  readonly unknownOutcomeRetryMs: number;
}

/** Neutral status for each processor status: total, so a new status fails the build. */
const PAYMENT_STATUS_OF: Readonly<Record<ProcessorPaymentStatus, PaymentStatus>> = {
  processing: 'PROCESSING',
  requires_action: 'REQUIRES_ACTION',
  authorized: 'AUTHORIZED',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  canceled: 'CANCELED',
};

/** An authorize's first step: its payment moved to PROCESSING and attempt 1's id, or null. */
type FirstStep = { payment: PaymentView; attemptId: string } | null;

/** First steps, or recorded answers, per statement at most, and such statements at once. */
const AUTHORIZE_BATCH = { maxBatch: 64, maxInFlight: 2 } as const;

/** One processor operation on one payment, described for the generic attempt runner. */
interface OperationSpec<R> {
  readonly paymentId: string;
  readonly refundId: string | null;
  readonly operation: ProcessorOperation;
  /** The processors that may take a new attempt, in order, or null when nothing is left to do. */
  candidates(tx: EntityManager, payment: PaymentView): Promise<string[] | null>;
  call(
    adapter: ProcessorAdapter,
    idempotencyKey: string,
    payment: PaymentView,
    processor: string,
  ): Promise<R>;
  succeeded(tx: EntityManager, payment: PaymentView, result: R): Promise<OutboxMessage[]>;
  failed(tx: EntityManager, payment: PaymentView, error: ProcessorError): Promise<OutboxMessage[]>;
  /** Optional one-statement paths for the common case; null/false falls back to the general path. */
  fastClaim?(): Promise<Claim | null>;
  fastRecord?(claim: Claim, result: R, latencyMs: number): Promise<boolean>;
}

interface Claim {
  readonly payment: PaymentView;
  readonly processor: string;
  readonly attempt: AttemptRecord;
  /** The attempt was sent before (pending or unknown): its first send may have moved money. */
  readonly resent: boolean;
  /** Attempts allowed for this operation (one more per extra processor to fail over to). */
  readonly maxAttempts: number;
}

/**
 * Carries out payment commands against processors. Every call is a PaymentAttempt with a
 * deterministic idempotency key, claimed in one transaction, made outside any transaction,
 * and recorded with its outbox event in another. Redelivery of a command re-sends a pending
 * or unknown attempt with the same key, so it can never charge twice.
 */
export class PaymentCommandHandler {
  constructor(
    private readonly dataSource: DataSource,
    private readonly router: ProcessorRouter,
    private readonly subjects: Subjects,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: CommandHandlerOptions,
    private readonly outboxWritten: () => void = () => undefined,
    /** Whether a processor can take new attempts now (breaker closed, not paused). */
    private readonly isAvailable: (processor: string) => boolean = () => true,
    /** Applies stored processor webhooks (`webhook` commands). */
    private readonly webhooks?: WebhookApplier,
  ) {}

  /** `delivery` is the JetStream delivery count: unknown outcomes back off with it. */
  async handle(command: PaymentCommand, delivery = 1): Promise<void> {
    switch (command.type) {
      case 'authorize':
        return this.run(this.authorizeSpec(command.paymentId), delivery);
      case 'capture':
        return this.run(this.captureSpec(command.paymentId), delivery);
      case 'cancel':
        return this.run(this.cancelSpec(command.paymentId), delivery);
      case 'refund':
        return this.run(this.refundSpec(command.paymentId, command.refundId), delivery);
      case 'sync':
        return this.sync(command.paymentId, delivery);
      case 'webhook':
        if (!this.webhooks) throw new Error('no webhook application service is wired');
        return this.webhooks.apply(command.webhookEventId, { feeLookup: command.feeLookup });
    }
  }

  /** Re-drives whatever is outstanding on a payment (used by the janitor for stuck payments). */
  private async sync(paymentId: string, delivery: number): Promise<void> {
    const [payment] = await this.dataSource.query(
      `SELECT status, pending_operation FROM payments WHERE id = $1`,
      [paymentId],
    );
    if (!payment) return;
    if (payment.status === 'PENDING' || payment.status === 'PROCESSING')
      await this.run(this.authorizeSpec(paymentId), delivery);
    if (payment.pending_operation === 'capture')
      await this.run(this.captureSpec(paymentId), delivery);
    if (payment.pending_operation === 'cancel')
      await this.run(this.cancelSpec(paymentId), delivery);
    const refunds: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM refunds WHERE payment_id = $1 AND status = 'PENDING' ORDER BY id`,
      [paymentId],
    );
    for (const refund of refunds) await this.run(this.refundSpec(paymentId, refund.id), delivery);
  }

  private async run<R>(spec: OperationSpec<R>, delivery: number): Promise<void> {
    const claim = (await spec.fastClaim?.()) ?? (await this.claim(spec));
    if (!claim) return;
    const base = this.router.adapter(claim.processor);
    const adapter = base.withLane?.(laneOf(spec.operation, claim.payment)) ?? base;
    const started = performance.now();
    let result: { ok: true; value: R } | { ok: false; error: ProcessorError };
    try {
      result = {
        ok: true,
        value: await this.withTimeout(
          spec.call(adapter, claim.attempt.idempotencyKey, claim.payment, claim.processor),
        ),
      };
    } catch (error) {
      result = { ok: false, error: asProcessorError(error) };
    }
    const latencyMs = Math.round(performance.now() - started);
    this.metrics.processorCallDuration.observe(
      {
        processor: claim.processor,
        operation: spec.operation,
        outcome: result.ok ? 'ok' : result.error.kind,
      },
      latencyMs / 1000,
    );
    if (result.ok && (await spec.fastRecord?.(claim, result.value, latencyMs))) {
      this.outboxWritten();
      return;
    }
    const retry = await this.record(spec, claim, result, latencyMs, delivery);
    this.outboxWritten();
    if (retry) throw retry;
  }

  private async claim<R>(spec: OperationSpec<R>): Promise<Claim | null> {
    return this.dataSource.transaction(async (tx) => {
      const payment = await lockPayment(tx, spec.paymentId);
      if (!payment) {
        this.logger.warn({ paymentId: spec.paymentId }, 'command for an unknown payment ignored');
        return null;
      }
      const candidates = await spec.candidates(tx, payment);
      if (!candidates || candidates.length === 0) return null;
      const latest = await latestAttempt(tx, spec.paymentId, spec.operation, spec.refundId);
      // Each extra processor adds one attempt: a failover must not eat the retries.
      const maxAttempts = this.options.maxAttempts + candidates.length - 1;
      const step = nextAttemptStep(latest, maxAttempts);
      if (step.kind === 'done') return null;
      if (step.kind === 'give_up') {
        const error = new ProcessorError(
          step.lastErrorKind ?? 'unavailable',
          'processor unavailable after retries',
        );
        await writeOutbox(tx, await spec.failed(tx, payment, error));
        return null;
      }
      if (step.kind === 'resend') {
        // The earlier call may have moved money: only its own processor may be asked again.
        return {
          payment,
          processor: step.attempt.processor,
          attempt: step.attempt,
          resent: true,
          maxAttempts,
        };
      }
      const processor = chooseProcessor(candidates, latest, this.isAvailable);
      if (spec.operation === 'authorize' && payment.processor !== processor) {
        await updatePayment(tx, payment, { processor });
      }
      const attempt = await insertAttempt(tx, {
        paymentId: spec.paymentId,
        refundId: spec.refundId,
        processor,
        operation: spec.operation,
        attemptNumber: step.attemptNumber,
        idempotencyKey: processorIdempotencyKey(
          spec.refundId ?? spec.paymentId,
          spec.operation,
          step.attemptNumber,
        ),
      });
      return { payment, processor, attempt, resent: false, maxAttempts };
    });
  }

  /** Records the outcome; returns a RetryLater when the command must come back. */
  private async record<R>(
    spec: OperationSpec<R>,
    claim: Claim,
    result: { ok: true; value: R } | { ok: false; error: ProcessorError },
    latencyMs: number,
    delivery: number,
  ): Promise<RetryLater | null> {
    return this.dataSource.transaction(async (tx) => {
      const payment = (await lockPayment(tx, spec.paymentId)) as PaymentView;
      const attemptId = claim.attempt.id;
      if (result.ok) {
        await completeAttempt(tx, attemptId, { outcome: 'succeeded', latencyMs });
        await writeOutbox(tx, await spec.succeeded(tx, payment, result.value));
        return null;
      }
      // A refusal of a re-send proves only that the re-send was not processed, not the first
      // send: the outcome stays unknown and only this processor may be asked again.
      const error =
        claim.resent && result.error.knownNotProcessed
          ? new ProcessorError(
              'timeout_unknown_outcome',
              `re-send refused (${result.error.message}); outcome still unknown`,
            )
          : result.error;
      const log = {
        paymentId: spec.paymentId,
        operation: spec.operation,
        attempt: claim.attempt.attemptNumber,
        kind: error.kind,
      };
      if (error.kind === 'timeout_unknown_outcome') {
        await completeAttempt(tx, attemptId, {
          outcome: 'unknown',
          latencyMs,
          errorKind: error.kind,
          errorMessage: error.message,
        });
        this.logger.warn(
          log,
          'processor outcome unknown; will ask again with the same idempotency key',
        );
        return new RetryLater(
          unknownOutcomeDelayMs(this.options.unknownOutcomeRetryMs, delivery),
          'unknown outcome',
        );
      }
      await completeAttempt(tx, attemptId, {
        outcome: 'failed',
        latencyMs,
        errorKind: error.kind,
        errorMessage: error.message,
      });
      if (error.knownNotProcessed && claim.attempt.attemptNumber < claim.maxAttempts) {
        this.logger.warn(log, 'processor call not processed; retrying under a new attempt');
        return new RetryLater(
          retryDelayMs(claim.attempt.attemptNumber, error.retryAfterMs),
          error.kind,
        );
      }
      await writeOutbox(tx, await spec.failed(tx, payment, error));
      return null;
    });
  }

  private withTimeout<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ProcessorError(
              'timeout_unknown_outcome',
              `no answer within ${this.options.processorTimeoutMs} ms`,
            ),
          ),
        this.options.processorTimeoutMs,
      );
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }

  /** Moves the payment (if the state machine allows) and returns the event announcing it. */
  private async move(
    tx: EntityManager,
    payment: PaymentView,
    changes: PaymentChanges,
    event: Parameters<typeof paymentEventMessage>[1] | null,
    amount?: number,
  ): Promise<OutboxMessage[]> {
    const updated = await updatePayment(tx, payment, changes);
    if (!updated) {
      this.logger.warn(
        { paymentId: payment.id, from: payment.status, to: changes.status },
        'stale transition refused',
      );
      return [];
    }
    if (changes.status && changes.status !== payment.status && updated.processor) {
      this.metrics.paymentOutcomes.inc({ processor: updated.processor, status: changes.status });
    }
    return event && updated.status !== payment.status
      ? [paymentEventMessage(this.subjects, event, updated, { amount })]
      : [];
  }

  /**
   * First steps of concurrent authorizes, in one statement (group commit, decisions #20); one by
   * one if that statement fails as a whole (a deadlock between two batches, say).
   */
  private readonly firstSteps = new GroupCommit<FirstAttemptRequest, FirstStep>(
    (requests) =>
      startFirstAttempts(
        this.dataSource,
        this.router.names.filter((name) => this.isAvailable(name)),
        requests,
      ),
    {
      ...AUTHORIZE_BATCH,
      onBatch: (size) =>
        this.metrics.groupCommitBatchSize.observe({ writer: 'authorize_first_step' }, size),
    },
  );

  /** Successful answers of concurrent authorizes, recorded in one statement (group commit). */
  private readonly successes = new GroupCommit<SuccessRecord, PaymentView | null>(
    (records) => recordSuccessesAtomically(this.dataSource, records),
    {
      ...AUTHORIZE_BATCH,
      onBatch: (size) =>
        this.metrics.groupCommitBatchSize.observe({ writer: 'authorize_record' }, size),
    },
  );

  /** PENDING → PROCESSING and attempt 1, in one statement with concurrent ones (firstSteps). */
  private async claimFirstAuthorize(paymentId: string): Promise<Claim | null> {
    const idempotencyKey = processorIdempotencyKey(paymentId, 'authorize', 1);
    const started = await this.firstSteps.submit({ paymentId, idempotencyKey });
    // The statement inserted the attempt exactly when there is a processor and a candidate.
    const processor = started?.payment.processor;
    const candidates = started ? routeOf(started.payment) : [];
    if (!started || !processor || candidates.length === 0) return null;
    const attempt: AttemptRecord = {
      id: started.attemptId,
      processor,
      attemptNumber: 1,
      idempotencyKey,
      outcome: 'pending',
      errorKind: null,
    };
    return {
      payment: started.payment,
      processor,
      attempt,
      resent: false,
      maxAttempts: this.options.maxAttempts + candidates.length - 1,
    };
  }

  private async recordAuthorizeAtomically(
    claim: Claim,
    r: ProcessorPaymentResult,
    latencyMs: number,
  ): Promise<boolean> {
    const { changes, event, amount } = authorizeOutcome(r);
    const to = changes.status as PaymentStatus;
    if (to === 'PROCESSING') return false;
    const expected: PaymentView = {
      ...claim.payment,
      status: to,
      processor: claim.processor,
      processorReference: r.processorReference,
      amountAuthorized: r.amountAuthorized,
      amountCaptured: r.amountCaptured,
    };
    const message = event ? paymentEventMessage(this.subjects, event, expected, { amount }) : null;
    const moved = await this.successes.submit({
      paymentId: claim.payment.id,
      attemptId: claim.attempt.id,
      latencyMs,
      changes,
      allowedFrom: PAYMENT_STATUSES.filter((from) => canTransition(from, to)),
      event: message ? { id: newId('obx'), ...message } : null,
    });
    if (!moved) return false;
    this.metrics.paymentOutcomes.inc({ processor: claim.processor, status: to });
    return true;
  }

  private authorizeSpec(paymentId: string): OperationSpec<ProcessorPaymentResult> {
    return {
      paymentId,
      refundId: null,
      operation: 'authorize',
      candidates: async (tx, payment) => {
        if (payment.status === 'PENDING') {
          await updatePayment(tx, payment, { status: 'PROCESSING' });
        } else if (payment.status !== 'PROCESSING') {
          return null;
        }
        return routeOf(payment).map((c) => c.processor);
      },
      call: (adapter, idempotencyKey, p, processor) =>
        adapter.authorize({
          idempotencyKey,
          paymentId: p.id,
          amount: p.amount,
          currency: p.currency as never,
          paymentMethodToken:
            routeOf(p).find((c) => c.processor === processor)?.token ?? p.paymentMethod,
          captureMethod: p.captureMethod,
          customerId: p.customerId ?? undefined,
          description: p.description ?? undefined,
          metadata: p.metadata ?? undefined,
        }),
      succeeded: (tx, payment, r) => {
        const outcome = authorizeOutcome(r);
        return this.move(tx, payment, outcome.changes, outcome.event, outcome.amount);
      },
      fastClaim: () => this.claimFirstAuthorize(paymentId),
      fastRecord: (claim, r, latencyMs) => this.recordAuthorizeAtomically(claim, r, latencyMs),
      failed: (tx, payment, error) =>
        this.move(tx, payment, { status: 'FAILED', failure: failureFrom(error) }, 'failed'),
    };
  }

  private captureSpec(paymentId: string): OperationSpec<ProcessorPaymentResult> {
    return {
      paymentId,
      refundId: null,
      operation: 'capture',
      candidates: async (_tx, p) =>
        p.pendingOperation === 'capture' && p.status === 'AUTHORIZED' ? processorOf(p) : null,
      call: (adapter, idempotencyKey, p) =>
        adapter.capture({
          idempotencyKey,
          processorReference: p.processorReference as string,
          amount: p.pendingCaptureAmount ?? p.amountAuthorized,
        }),
      succeeded: (tx, payment, r) =>
        this.move(
          tx,
          payment,
          {
            status: PAYMENT_STATUS_OF[r.status],
            amountCaptured: r.amountCaptured,
            clearPendingOperation: true,
            failure: null,
          },
          'captured',
          r.amountCaptured,
        ),
      failed: (tx, payment, error) =>
        this.move(tx, payment, { clearPendingOperation: true, failure: failureFrom(error) }, null),
    };
  }

  private cancelSpec(paymentId: string): OperationSpec<ProcessorPaymentResult> {
    return {
      paymentId,
      refundId: null,
      operation: 'cancel',
      candidates: async (_tx, p) =>
        p.pendingOperation === 'cancel' &&
        (p.status === 'AUTHORIZED' || p.status === 'REQUIRES_ACTION')
          ? processorOf(p)
          : null,
      call: (adapter, idempotencyKey, p) =>
        adapter.cancel({ idempotencyKey, processorReference: p.processorReference as string }),
      succeeded: (tx, payment, r) =>
        this.move(
          tx,
          payment,
          { status: PAYMENT_STATUS_OF[r.status], clearPendingOperation: true, nextAction: null },
          'canceled',
        ),
      failed: (tx, payment, error) =>
        this.move(tx, payment, { clearPendingOperation: true, failure: failureFrom(error) }, null),
    };
  }

  private refundSpec(paymentId: string, refundId: string): OperationSpec<ProcessorRefundResult> {
    return {
      paymentId,
      refundId,
      operation: 'refund',
      candidates: async (tx, p) => {
        const refund = await lockRefund(tx, refundId);
        return refund && refund.status === 'PENDING' && refund.paymentId === p.id
          ? processorOf(p)
          : null;
      },
      call: async (adapter, idempotencyKey, p) => {
        const [refund] = await this.dataSource.query(
          `SELECT amount, reason FROM refunds WHERE id = $1`,
          [refundId],
        );
        return adapter.refund({
          idempotencyKey,
          processorReference: p.processorReference as string,
          refundId,
          amount: Number(refund.amount),
          reason: refund.reason ?? undefined,
        });
      },
      succeeded: async (tx, payment, r) => {
        // A webhook may have settled the refund while we waited for the answer: only a refund
        // still PENDING moves, so the amount is never counted twice.
        const current = await lockRefund(tx, refundId);
        if (!current) return [];
        if (current.status !== 'PENDING') {
          if (!current.processorReference) {
            await updateRefund(tx, refundId, {
              status: current.status,
              processorReference: r.processorReference,
            });
          }
          return [];
        }
        if (r.status === 'pending') {
          await updateRefund(tx, refundId, {
            status: 'PENDING',
            processorReference: r.processorReference,
          });
          return [];
        }
        if (r.status === 'failed')
          return this.refundFailed(tx, payment, refundId, {
            code: 'refund_failed',
            message: 'the processor failed the refund',
            retryable: false,
          });
        const refund = await updateRefund(tx, refundId, {
          status: 'SUCCEEDED',
          processorReference: r.processorReference,
        });
        const updated = (await updatePayment(tx, payment, {
          amountRefundedDelta: refund.amount,
        })) as PaymentView;
        return [
          paymentEventMessage(this.subjects, 'refunded', updated, {
            amount: refund.amount,
            refund,
          }),
          refundEventMessage(this.subjects, 'succeeded', updated.processor, refund),
        ];
      },
      failed: (tx, payment, error) => this.refundFailed(tx, payment, refundId, failureFrom(error)),
    };
  }

  private async refundFailed(
    tx: EntityManager,
    payment: PaymentView,
    refundId: string,
    failure: unknown,
  ): Promise<OutboxMessage[]> {
    const current = await lockRefund(tx, refundId);
    if (!current || current.status !== 'PENDING') return []; // settled meanwhile (webhook)
    const refund = await updateRefund(tx, refundId, { status: 'FAILED', failure });
    return [
      paymentEventMessage(this.subjects, 'refund_failed', payment, { refund }),
      refundEventMessage(this.subjects, 'failed', payment.processor, refund),
    ];
  }
}

/** What an authorize answer does to the payment, and the event announcing it. */
function authorizeOutcome(r: ProcessorPaymentResult): {
  changes: PaymentChanges;
  event: EventType | null;
  amount?: number;
} {
  const status = PAYMENT_STATUS_OF[r.status];
  const events: Readonly<Record<PaymentStatus, EventType | null>> = {
    PENDING: null,
    PROCESSING: null,
    SUCCEEDED: 'succeeded',
    AUTHORIZED: 'authorized',
    REQUIRES_ACTION: 'requires_action',
    FAILED: 'failed',
    CANCELED: 'canceled',
  };
  return {
    changes: {
      status,
      processorReference: r.processorReference,
      amountAuthorized: r.amountAuthorized,
      amountCaptured: r.amountCaptured,
      nextAction: r.nextAction ?? null,
      failure: r.failure ?? null,
    },
    event: events[status],
    amount: status === 'SUCCEEDED' ? r.amountCaptured : undefined,
  };
}

/** Checkout payments go ahead of background ones; refunds and captures/cancels have their own lanes. */
function laneOf(operation: ProcessorOperation, payment: PaymentView): ProcessorLane {
  if (operation === 'authorize')
    return payment.priority === 'BACKGROUND' ? 'BACKGROUND' : 'CHECKOUT';
  return operation === 'refund' ? 'REFUND' : 'OPERATOR';
}

/** Status-sync schedule after an unknown outcome: base, then doubling, capped at 5 minutes. */
export function unknownOutcomeDelayMs(baseMs: number, delivery: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, delivery - 1), 300_000);
}

/** The route stored at intake; payments from before routing existed route to the token's issuer. */
function routeOf(payment: PaymentView): readonly RouteCandidate[] {
  return (
    payment.route?.candidates ??
    (payment.processor ? [{ processor: payment.processor, token: payment.paymentMethod }] : [])
  );
}

/** Follow-up operations go to the processor that holds the payment, and only there. */
function processorOf(payment: PaymentView): string[] | null {
  return payment.processor ? [payment.processor] : null;
}

/** Anything that is not a ProcessorError may have happened after the request left: unknown. */
function asProcessorError(error: unknown): ProcessorError {
  if (error instanceof ProcessorError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProcessorError('timeout_unknown_outcome', `unexpected adapter error: ${message}`);
}
