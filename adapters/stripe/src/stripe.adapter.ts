import Stripe from 'stripe';
import {
  AuthorizeRequest,
  CancelRequest,
  CaptureRequest,
  ParsedWebhook,
  ProcessorAdapter,
  ProcessorError,
  ProcessorPaymentResult,
  ProcessorRefundResult,
  RefundRequest,
  RetrieveRequest,
} from '../../../libs/contracts/src';
import {
  BalanceTransactionQuery,
  ProcessorBalanceTransaction,
  listBalanceTransactions,
  toBalanceTransaction,
} from './stripe-balance-transactions';
import { mapStripeError } from './stripe-errors';
import { StripeAdapterOptions, stripeClientConfig, validateStripeOptions } from './stripe-options';
import {
  assertAmount,
  assertIdempotencyKey,
  paymentIntentParams,
  refundParams,
} from './stripe-requests';
import { toPaymentResult } from './stripe-status';
import { DEFAULT_WEBHOOK_TOLERANCE_SEC, verifyStripeWebhook } from './stripe-webhook';

export const STRIPE_TOKEN_PREFIX = 'pm_';

/**
 * Stripe through the official SDK (PaymentIntents, Refunds, Balance Transactions, webhooks).
 * SDK retries are off: our worker owns retries. Every mutating call sends our deterministic
 * key, so the one retry the SDK still makes on a closed connection (and any re-send after an
 * unknown outcome) is answered from Stripe's idempotency cache instead of charging again.
 */
export class StripeAdapter implements ProcessorAdapter {
  readonly name = 'stripe';
  private readonly stripe: Stripe;
  private readonly webhookSecrets: readonly string[];
  private readonly returnUrl?: string;
  private readonly toleranceSec: number;

  constructor(options: StripeAdapterOptions) {
    StripeAdapter.validateOptions(options);
    this.stripe = new Stripe(options.secretKey, stripeClientConfig(options));
    this.webhookSecrets = [...options.webhookSecrets];
    this.returnUrl = options.returnUrl;
    this.toleranceSec = options.webhookToleranceSec ?? DEFAULT_WEBHOOK_TOLERANCE_SEC;
  }

  static validateOptions(options: StripeAdapterOptions): void {
    validateStripeOptions(options);
  }

  ownsToken(token: string): boolean {
    return token.startsWith(STRIPE_TOKEN_PREFIX);
  }

  async authorize(request: AuthorizeRequest): Promise<ProcessorPaymentResult> {
    assertIdempotencyKey(request.idempotencyKey);
    assertAmount(request.amount, 'authorize');
    if (!this.ownsToken(request.paymentMethodToken)) {
      throw new ProcessorError('invalid_request', 'not a Stripe payment method token', {
        processorCode: 'foreign_token',
      });
    }
    const params = paymentIntentParams(request, this.returnUrl);
    const intent = await this.call(() =>
      this.stripe.paymentIntents.create(params, { idempotencyKey: request.idempotencyKey }),
    );
    return toPaymentResult(intent);
  }

  async capture(request: CaptureRequest): Promise<ProcessorPaymentResult> {
    assertIdempotencyKey(request.idempotencyKey);
    assertAmount(request.amount, 'capture');
    const intent = await this.call(() =>
      this.stripe.paymentIntents.capture(
        request.processorReference,
        { amount_to_capture: request.amount },
        { idempotencyKey: request.idempotencyKey },
      ),
    );
    return toPaymentResult(intent);
  }

  async cancel(request: CancelRequest): Promise<ProcessorPaymentResult> {
    assertIdempotencyKey(request.idempotencyKey);
    const intent = await this.call(() =>
      this.stripe.paymentIntents.cancel(
        request.processorReference,
        {},
        { idempotencyKey: request.idempotencyKey },
      ),
    );
    return toPaymentResult(intent);
  }

  async refund(request: RefundRequest): Promise<ProcessorRefundResult> {
    assertIdempotencyKey(request.idempotencyKey);
    assertAmount(request.amount, 'refund');
    const refund = await this.call(() =>
      this.stripe.refunds.create(refundParams(request), {
        idempotencyKey: request.idempotencyKey,
      }),
    );
    return {
      status: refundStatus(refund.status),
      processorReference: refund.id,
      amount: refund.amount,
    };
  }

  /**
   * By reference: the PaymentIntent as it is now (null if Stripe does not know it). By key
   * alone: Stripe cannot look a request up by idempotency key, so this answers null WITHOUT
   * meaning "not charged"; after an unknown outcome the worker re-sends the same request with
   * the same key, which Stripe answers from its idempotency cache (24 h), and webhooks report
   * the final state. Never treat this null as proof that no money moved.
   */
  async retrieve(request: RetrieveRequest): Promise<ProcessorPaymentResult | null> {
    const reference = request.processorReference;
    if (!reference) return null;
    try {
      return toPaymentResult(await this.stripe.paymentIntents.retrieve(reference));
    } catch (error) {
      const mapped = mapStripeError(error);
      if (mapped.processorCode === 'resource_missing') return null;
      throw mapped;
    }
  }

  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): ParsedWebhook {
    return verifyStripeWebhook(rawBody, signatureHeader, this.webhookSecrets, this.toleranceSec);
  }

  /** One balance transaction (a charge's fee and net); null if Stripe does not know it. */
  async retrieveBalanceTransaction(id: string): Promise<ProcessorBalanceTransaction | null> {
    try {
      return toBalanceTransaction(await this.stripe.balanceTransactions.retrieve(id));
    } catch (error) {
      const mapped = mapStripeError(error);
      if (mapped.processorCode === 'resource_missing') return null;
      throw mapped;
    }
  }

  /** Balance transactions created in the window (inclusive), fetched page by page. */
  listBalanceTransactions(
    query: BalanceTransactionQuery,
  ): AsyncIterable<ProcessorBalanceTransaction> {
    const pages = listBalanceTransactions(this.stripe, query);
    return {
      [Symbol.asyncIterator]: () => mapErrors(pages),
    };
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw mapStripeError(error);
    }
  }
}

function refundStatus(status: string | null): ProcessorRefundResult['status'] {
  if (status === 'succeeded') return 'succeeded';
  if (status === 'failed' || status === 'canceled') return 'failed';
  return 'pending';
}

async function* mapErrors<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (error) {
    throw mapStripeError(error);
  }
}
