import {
  AuthorizeRequest,
  BalanceTransactionQuery,
  CancelRequest,
  CaptureRequest,
  ParsedWebhook,
  ProcessorAdapter,
  ProcessorBalanceTransaction,
  ProcessorError,
  ProcessorPaymentResult,
  ProcessorRefundResult,
  RefundRequest,
  RetrieveRequest,
} from '../../../libs/contracts/src';
import { randomHex } from '../../../libs/domain/src';
import { delay } from './delay';
import { requestHash } from './request-hash';
import { paymentResultOf, refundResultOf } from './saved-response';
import {
  Decision,
  decideAuthorize,
  decideCancel,
  decideCapture,
  decideRefund,
} from './simulator-decisions';
import { RunOutcome, runOnce } from './simulator-idempotency';
import {
  assertAuthorizeRequest,
  assertIdempotencyKey,
  assertPositiveAmount,
  authorizeParams,
} from './simulator-request-checks';
import { toPaymentResult } from './simulator-status';
import { SimulatorOperation, SimulatorStore } from './simulator-store';
import { SIMULATOR_TOKEN_PREFIX, tokenBehaviour } from './simulator-tokens';
import { verifySimulatorWebhook } from './simulator-webhook';

export interface SimulatorAdapterOptions {
  readonly store: SimulatorStore;
  /** Delay before every answer; 0 answers at once. */
  readonly latencyMs?: number;
  /** Share (0..1) of calls refused as unavailable before anything is processed. */
  readonly failureRate?: number;
  readonly webhookSecret?: string;
  readonly random?: () => number;
  readonly now?: () => Date;
}

/** The simulated secondary processor: Stripe-like semantics driven by `sim_` tokens. */
export class SimulatorAdapter implements ProcessorAdapter {
  readonly name = 'simulator';
  private readonly store: SimulatorStore;
  private readonly latencyMs: number;
  private readonly failureRate: number;
  private readonly random: () => number;
  private readonly now: () => Date;
  private readonly webhookSecret?: string;

  constructor(options: SimulatorAdapterOptions) {
    SimulatorAdapter.validateOptions(options);
    this.store = options.store;
    this.webhookSecret = options.webhookSecret;
    this.latencyMs = options.latencyMs ?? 0;
    this.failureRate = options.failureRate ?? 0;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
  }

  /** Refuses a misconfiguration at boot rather than misbehaving later. */
  static validateOptions(options: SimulatorAdapterOptions): void {
    if (!options.store) throw new Error('simulator: a store is required');
    const { latencyMs = 0, failureRate = 0 } = options;
    if (!Number.isFinite(latencyMs) || latencyMs < 0) {
      throw new Error(`simulator: latencyMs must be a non-negative number, got ${latencyMs}`);
    }
    if (!Number.isFinite(failureRate) || failureRate < 0 || failureRate > 1) {
      throw new Error(`simulator: failureRate must be between 0 and 1, got ${failureRate}`);
    }
  }

  ownsToken(token: string): boolean {
    return token.startsWith(SIMULATOR_TOKEN_PREFIX);
  }

  async authorize(request: AuthorizeRequest): Promise<ProcessorPaymentResult> {
    await this.enter();
    assertAuthorizeRequest(request, this.ownsToken(request.paymentMethodToken));
    const behaviour = tokenBehaviour(request.paymentMethodToken);
    if (behaviour?.type === 'unavailable') throw simulatedOutage('sim_unavailable token');
    const { response, replayed } = await this.once(
      'authorize',
      request,
      authorizeParams(request),
      async () => decideAuthorize(request, behaviour, newReference('simpay')),
    );
    const result = paymentResultOf(response);
    // The charge is saved; only this first caller loses the answer on the way back.
    if (behaviour?.type === 'charge_then_timeout' && !replayed) throw chargeTimedOut();
    return result;
  }

  async capture(request: CaptureRequest): Promise<ProcessorPaymentResult> {
    await this.enter();
    assertPositiveAmount(request.amount, 'capture');
    const { processorReference: reference, amount } = request;
    const { response } = await this.once('capture', request, { reference, amount }, async () =>
      decideCapture(await this.store.findPayment(reference), reference, amount),
    );
    return paymentResultOf(response);
  }

  async cancel(request: CancelRequest): Promise<ProcessorPaymentResult> {
    await this.enter();
    const { processorReference: reference } = request;
    const { response } = await this.once('cancel', request, { reference }, async () =>
      decideCancel(await this.store.findPayment(reference), reference),
    );
    return paymentResultOf(response);
  }

  async refund(request: RefundRequest): Promise<ProcessorRefundResult> {
    await this.enter();
    assertPositiveAmount(request.amount, 'refund');
    const { processorReference: reference, amount, refundId, reason } = request;
    const params = { reference, amount, refundId, reason };
    const { response } = await this.once('refund', request, params, async () =>
      decideRefund(
        await this.store.findPayment(reference),
        reference,
        amount,
        newReference('simref'),
      ),
    );
    return refundResultOf(response);
  }

  async retrieve(request: RetrieveRequest): Promise<ProcessorPaymentResult | null> {
    await this.enter();
    try {
      const reference =
        request.processorReference ?? (await this.referenceSavedUnder(request.idempotencyKey));
      const payment = reference ? await this.store.findPayment(reference) : null;
      return payment ? toPaymentResult(payment) : null;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ProcessorError('unavailable', `simulator store failed (${reason})`);
    }
  }

  /**
   * The simulator's balance report: one transaction per captured charge (+) and per succeeded
   * refund (−), created in the inclusive window, oldest first, fetched `pageSize` at a time.
   * The simulator charges no fee (its payments carry none and the ledger books none), so every
   * transaction has fee 0 and net = amount; they are available at once and never paid out.
   */
  async *listBalanceTransactions(
    query: BalanceTransactionQuery,
  ): AsyncIterable<ProcessorBalanceTransaction> {
    const { createdFrom: from, createdTo: to } = query;
    const limit = query.pageSize ?? 100;
    if (!(from instanceof Date) || !(to instanceof Date) || !(from <= to)) {
      throw new ProcessorError('invalid_request', 'createdFrom must be a date before createdTo');
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new ProcessorError('invalid_request', `pageSize must be 1–100, got ${limit}`);
    }
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const page = await this.store.listMovements({ from, to, after, limit }).catch((error) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ProcessorError('unavailable', `simulator store failed (${reason})`);
      });
      for (const m of page) {
        yield {
          id: m.id,
          sourceReference: m.sourceReference,
          type: m.type,
          reportingCategory: m.type,
          currency: m.currency,
          amount: m.amount,
          fee: 0,
          net: m.amount,
          status: 'available',
          createdAt: m.createdAt,
          availableOn: m.createdAt,
          payoutReference: null,
        };
      }
      if (page.length < limit) return;
      const last = page[page.length - 1];
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): ParsedWebhook {
    return verifySimulatorWebhook(rawBody, signatureHeader, this.webhookSecret, this.now());
  }

  private once(
    operation: SimulatorOperation,
    request: { readonly idempotencyKey: string },
    params: Readonly<Record<string, unknown>>,
    decide: () => Promise<Decision>,
  ): Promise<RunOutcome> {
    assertIdempotencyKey(request.idempotencyKey);
    const fingerprint = {
      idempotencyKey: request.idempotencyKey,
      operation,
      requestHash: requestHash(operation, params),
    };
    return runOnce(this.store, fingerprint, decide);
  }

  /** The payment an authorize created under this key, if it completed. */
  private async referenceSavedUnder(idempotencyKey: string): Promise<string | undefined> {
    const saved = await this.store.findRequest(idempotencyKey);
    if (saved?.operation !== 'authorize' || saved.response?.type !== 'payment') return undefined;
    return saved.response.result.processorReference;
  }

  // Network-like behaviour every call shares: latency first, then a simulated outage.
  private async enter(): Promise<void> {
    if (this.latencyMs > 0) await delay(this.latencyMs);
    if (this.failureRate > 0 && this.random() < this.failureRate) {
      throw simulatedOutage(`failure rate ${this.failureRate}`);
    }
  }
}

function newReference(prefix: 'simpay' | 'simref'): string {
  return `${prefix}_${randomHex(12)}`;
}

function simulatedOutage(cause: string): ProcessorError {
  return new ProcessorError('unavailable', `simulated processor unavailable (${cause})`, {
    processorCode: 'simulated_unavailable',
  });
}

function chargeTimedOut(): ProcessorError {
  return new ProcessorError(
    'timeout_unknown_outcome',
    'simulated timeout after the request was sent; the charge may have been made',
    { processorCode: 'simulated_timeout' },
  );
}
