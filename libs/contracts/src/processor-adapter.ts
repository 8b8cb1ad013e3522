import { CaptureMethod, CurrencyCode } from '../../domain/src';
import { BalanceTransactionQuery, ProcessorBalanceTransaction } from './balance-transactions';

/** Neutral outcome of an authorize call (DESIGN.md §6). */
export type ProcessorPaymentStatus =
  'requires_action' | 'authorized' | 'succeeded' | 'failed' | 'canceled' | 'processing';

export interface NextActionResult {
  readonly type: string;
  readonly clientSecret?: string;
  readonly redirectUrl?: string;
}

export interface ProcessorPaymentResult {
  readonly status: ProcessorPaymentStatus;
  readonly processorReference: string;
  readonly amountAuthorized: number;
  readonly amountCaptured: number;
  readonly nextAction?: NextActionResult;
  readonly failure?: {
    readonly code: string;
    readonly declineCode?: string;
    readonly message: string;
    readonly retryable: boolean;
  };
}

export interface ProcessorRefundResult {
  readonly status: 'pending' | 'succeeded' | 'failed';
  readonly processorReference: string;
  readonly amount: number;
}

export interface AuthorizeRequest {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly amount: number;
  readonly currency: CurrencyCode;
  readonly paymentMethodToken: string;
  readonly captureMethod: CaptureMethod;
  readonly customerId?: string;
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface CaptureRequest {
  readonly idempotencyKey: string;
  readonly processorReference: string;
  readonly amount: number;
}

export interface CancelRequest {
  readonly idempotencyKey: string;
  readonly processorReference: string;
}

export interface RefundRequest {
  readonly idempotencyKey: string;
  readonly processorReference: string;
  readonly refundId: string;
  readonly amount: number;
  readonly reason?: string;
}

/**
 * Asks the processor what became of an earlier call. The reference is known when the
 * call answered; after an unknown outcome only our idempotency key is known.
 */
export interface RetrieveRequest {
  readonly processorReference?: string;
  readonly idempotencyKey: string;
}

export interface ParsedWebhook {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: Date;
  readonly payload: unknown;
}

/**
 * One interface every processor implements (verbs from DESIGN.md §6). Every mutating verb
 * carries our deterministic idempotency key. Failures are thrown as `ProcessorError`.
 */
export interface ProcessorAdapter {
  readonly name: string;
  /** Whether a payment-method token was issued by this processor. */
  ownsToken(token: string): boolean;
  authorize(request: AuthorizeRequest): Promise<ProcessorPaymentResult>;
  capture(request: CaptureRequest): Promise<ProcessorPaymentResult>;
  cancel(request: CancelRequest): Promise<ProcessorPaymentResult>;
  refund(request: RefundRequest): Promise<ProcessorRefundResult>;
  retrieve(request: RetrieveRequest): Promise<ProcessorPaymentResult | null>;
  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): ParsedWebhook;
  /**
   * One balance transaction by the processor's id (e.g. the `txn_…` a Stripe charge event names
   * without expanding it): how the fee and net of a charge are learned. Null when unknown.
   */
  retrieveBalanceTransaction?(id: string): Promise<ProcessorBalanceTransaction | null>;
  /** False while new calls would be refused unsent (breaker open, paused); absent means true. */
  available?(): boolean;
  /** The same adapter with calls queued in this rate-limit lane (absent: no limiter). */
  withLane?(lane: ProcessorLane): ProcessorAdapter;
  /**
   * The processor's balance transactions created in the window (reconciliation pull), with
   * `payoutReference` set on those a payout created in the window paid out. Absent: the
   * processor offers no such report.
   */
  listBalanceTransactions?(
    query: BalanceTransactionQuery,
  ): AsyncIterable<ProcessorBalanceTransaction>;
}

/** Rate-limit lanes, highest priority first (DESIGN.md §6). */
export type ProcessorLane = 'CHECKOUT' | 'REFUND' | 'OPERATOR' | 'BACKGROUND';

/** Nest injection token for the list of configured adapters. */
export const PROCESSOR_ADAPTERS = Symbol('PROCESSOR_ADAPTERS');
