/** The closed taxonomy of processor failures (DESIGN.md §6). */
export const PROCESSOR_ERROR_KINDS = [
  'declined',
  'invalid_request',
  'authentication',
  'rate_limited',
  'unavailable',
  'timeout_unknown_outcome',
  'not_supported',
  'webhook_signature',
] as const;
export type ProcessorErrorKind = (typeof PROCESSOR_ERROR_KINDS)[number];

/** Kinds after which the processor provably did not move money: a retry or failover is safe. */
const NOT_PROCESSED: readonly ProcessorErrorKind[] = ['rate_limited', 'unavailable'];

export interface ProcessorErrorDetails {
  readonly retryable?: boolean;
  readonly processorCode?: string;
  readonly declineCode?: string;
  readonly hardDecline?: boolean;
  readonly retryAfterMs?: number;
}

export class ProcessorError extends Error {
  readonly retryable: boolean;
  readonly processorCode?: string;
  readonly declineCode?: string;
  readonly hardDecline: boolean;
  readonly retryAfterMs?: number;

  constructor(
    readonly kind: ProcessorErrorKind,
    message: string,
    details: ProcessorErrorDetails = {},
  ) {
    super(message);
    this.name = 'ProcessorError';
    this.retryable = details.retryable ?? NOT_PROCESSED.includes(kind);
    this.processorCode = details.processorCode;
    this.declineCode = details.declineCode;
    this.hardDecline = details.hardDecline ?? false;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** True when money cannot have moved, so another attempt (or processor) is safe. */
  get knownNotProcessed(): boolean {
    return NOT_PROCESSED.includes(this.kind);
  }
}

export function isProcessorError(error: unknown): error is ProcessorError {
  return error instanceof ProcessorError;
}
