import { ProcessorError, ProcessorErrorKind } from '../../../contracts/src';
import { PaymentFailureView } from '../payment.view';

export type ProcessorOperation = 'authorize' | 'capture' | 'cancel' | 'refund';
export type AttemptOutcome = 'pending' | 'succeeded' | 'failed' | 'unknown';

export interface AttemptRecord {
  readonly id: string;
  readonly processor: string;
  readonly attemptNumber: number;
  readonly idempotencyKey: string;
  readonly outcome: AttemptOutcome;
  readonly errorKind: ProcessorErrorKind | null;
}

export type AttemptStep =
  | { readonly kind: 'new'; readonly attemptNumber: number }
  | { readonly kind: 'resend'; readonly attempt: AttemptRecord }
  | { readonly kind: 'give_up'; readonly lastErrorKind: ProcessorErrorKind | null }
  | { readonly kind: 'done' };

const NOT_PROCESSED_KINDS: readonly string[] = ['rate_limited', 'unavailable'];

/**
 * What to do given the latest attempt of an operation (DESIGN.md §5.3-5.4):
 * - a pending or unknown attempt may have reached the processor: send it again with the SAME
 *   key, so the processor answers with the original outcome instead of charging twice;
 * - a failure known not to have moved money may be retried under a new attempt number;
 * - any other result is final.
 */
export function nextAttemptStep(
  latest: AttemptRecord | undefined,
  maxAttempts: number,
): AttemptStep {
  if (!latest) return { kind: 'new', attemptNumber: 1 };
  if (latest.outcome === 'pending' || latest.outcome === 'unknown')
    return { kind: 'resend', attempt: latest };
  if (latest.outcome === 'succeeded') return { kind: 'done' };
  if (latest.errorKind !== null && NOT_PROCESSED_KINDS.includes(latest.errorKind)) {
    return latest.attemptNumber < maxAttempts
      ? { kind: 'new', attemptNumber: latest.attemptNumber + 1 }
      : { kind: 'give_up', lastErrorKind: latest.errorKind };
  }
  return { kind: 'done' };
}

/**
 * The processor for a new attempt. After a failure known not to have moved money, the next
 * candidate takes over (failover is safe then, and only then); candidates that are not
 * available (breaker open, paused) are skipped while another one is.
 */
export function chooseProcessor(
  candidates: readonly string[],
  latest: AttemptRecord | undefined,
  isAvailable: (processor: string) => boolean,
): string {
  const failedAt =
    latest && latest.outcome === 'failed' ? candidates.indexOf(latest.processor) : -1;
  const start = failedAt >= 0 ? (failedAt + 1) % candidates.length : 0;
  const order = candidates.map((_, i) => candidates[(start + i) % candidates.length]);
  return order.find(isAvailable) ?? order[0];
}

/** Deterministic processor idempotency key: (payment or refund, operation, attempt number). */
export function processorIdempotencyKey(
  subjectId: string,
  operation: ProcessorOperation,
  attemptNumber: number,
): string {
  return `${subjectId}:${operation}:${attemptNumber}`;
}

/** Full-jitter exponential backoff, capped, honouring the processor's Retry-After when longer. */
export function retryDelayMs(attemptNumber: number, retryAfterMs?: number): number {
  const cap = Math.min(10_000, 200 * 2 ** (attemptNumber - 1));
  const jittered = Math.round(Math.random() * cap);
  return Math.max(jittered, retryAfterMs ?? 0, 50);
}

const FAILURE_CODES: Readonly<Record<ProcessorErrorKind, string>> = {
  declined: 'card_declined',
  invalid_request: 'processor_rejected',
  authentication: 'processor_authentication_failed',
  rate_limited: 'processor_unavailable',
  unavailable: 'processor_unavailable',
  timeout_unknown_outcome: 'processor_timeout',
  not_supported: 'not_supported_by_processor',
  webhook_signature: 'processor_rejected',
};

/** The client-facing failure for a processor error; soft declines may be retried by the client. */
export function failureFrom(error: ProcessorError): PaymentFailureView {
  const retryable =
    error.kind === 'declined' ? !error.hardDecline : NOT_PROCESSED_KINDS.includes(error.kind);
  return {
    code: FAILURE_CODES[error.kind],
    declineCode: error.declineCode ?? null,
    message: error.kind === 'declined' ? 'The card was declined' : error.message,
    retryable,
  };
}
