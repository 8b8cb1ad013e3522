import {
  AuthorizeRequest,
  CancelRequest,
  CaptureRequest,
  ParsedWebhook,
  ProcessorAdapter,
  ProcessorPaymentResult,
  ProcessorRefundResult,
  RefundRequest,
  RetrieveRequest,
  ProcessorBalanceTransaction,
} from '../../contracts/src';
import { Bulkhead } from './bulkhead';
import { ProcessorCircuitBreaker } from './circuit-breaker';
import { PriorityRateLimiter } from './priority-rate-limiter';
import { ProcessorGuard, ProcessorGuardOptions, ProcessorHealth } from './processor-guard';
import { DEFAULT_OPERATION_LANES, ProcessorOperation } from './processor-operation';
import { RateLimitLane } from './rate-limit-lane';

export type ResilientProcessorOptions = ProcessorGuardOptions;

/**
 * Decorates an adapter with the per-processor resilience stack. `name`, `ownsToken` and
 * `parseWebhook` pass straight through; the money verbs go through the guard.
 */
export class ResilientProcessor implements ProcessorAdapter {
  readonly guard: ProcessorGuard;
  /** Present when the processor offers it; a background `retrieve` through the guard. */
  readonly retrieveBalanceTransaction?: (id: string) => Promise<ProcessorBalanceTransaction | null>;

  /**
   * @param options the stack's options, or an existing guard to share (lane views do this).
   * @param lane pins every verb to this lane instead of DEFAULT_OPERATION_LANES.
   */
  constructor(
    private readonly inner: ProcessorAdapter,
    options: ResilientProcessorOptions | ProcessorGuard,
    private readonly lane?: RateLimitLane,
  ) {
    this.guard =
      options instanceof ProcessorGuard ? options : new ProcessorGuard(inner.name, options);
    const lookup = inner.retrieveBalanceTransaction?.bind(inner);
    if (lookup) {
      this.retrieveBalanceTransaction = (id) => this.run('retrieve', () => lookup(id));
    }
  }

  get name(): string {
    return this.inner.name;
  }

  get breaker(): ProcessorCircuitBreaker {
    return this.guard.breaker;
  }

  get limiter(): PriorityRateLimiter {
    return this.guard.limiter;
  }

  get bulkhead(): Bulkhead {
    return this.guard.bulkhead;
  }

  /** A view of this processor whose calls all use `lane`; it shares limiter, breaker and pause. */
  withLane(lane: RateLimitLane): ResilientProcessor {
    return new ResilientProcessor(this.inner, this.guard, lane);
  }

  ownsToken(token: string): boolean {
    return this.inner.ownsToken(token);
  }

  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): ParsedWebhook {
    return this.inner.parseWebhook(rawBody, signatureHeader);
  }

  authorize(request: AuthorizeRequest): Promise<ProcessorPaymentResult> {
    return this.run('authorize', () => this.inner.authorize(request));
  }

  capture(request: CaptureRequest): Promise<ProcessorPaymentResult> {
    return this.run('capture', () => this.inner.capture(request));
  }

  cancel(request: CancelRequest): Promise<ProcessorPaymentResult> {
    return this.run('cancel', () => this.inner.cancel(request));
  }

  refund(request: RefundRequest): Promise<ProcessorRefundResult> {
    return this.run('refund', () => this.inner.refund(request));
  }

  retrieve(request: RetrieveRequest): Promise<ProcessorPaymentResult | null> {
    return this.run('retrieve', () => this.inner.retrieve(request));
  }

  health(): ProcessorHealth {
    return this.guard.health();
  }

  /** Routing skips a processor whose breaker is open or that an operator paused. */
  available(): boolean {
    return !this.guard.paused && this.guard.breaker.state !== 'open';
  }

  pause(reason: string): void {
    this.guard.pause(reason);
  }

  resume(): void {
    this.guard.resume();
  }

  private run<T>(operation: ProcessorOperation, call: () => Promise<T>): Promise<T> {
    return this.guard.execute(operation, this.lane ?? DEFAULT_OPERATION_LANES[operation], call);
  }
}
