import Stripe from 'stripe';
import { ProcessorError, isProcessorError } from '../../../libs/contracts/src';
import { isHardDecline, normaliseDeclineCode } from './stripe-decline';

type StripeError = Stripe.errors.StripeError;

/**
 * Connection errors raised before the request could be written: the API never saw it, so
 * another attempt (or processor) is safe. Anything else — reset, broken pipe, timeout, a body cut
 * short — may have reached Stripe and is an unknown outcome.
 */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
// TLS handshake failures also happen before any byte of the request is sent.
const TLS_FAILURE = /^(CERT_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

/**
 * The one place a Stripe SDK failure becomes a ProcessorError (DESIGN.md §5.4, §6).
 * Server errors: only `Stripe-Should-Retry: true` tells us nothing ran; otherwise Stripe
 * documents a 5xx as indeterminate (and saves it under the key), so it is an unknown outcome.
 */
export function mapStripeError(error: unknown): ProcessorError {
  if (isProcessorError(error)) return error;
  if (!(error instanceof Stripe.errors.StripeError)) return unexpected(error);
  if (error instanceof Stripe.errors.StripeConnectionError) return connectionFailure(error);
  if (error instanceof Stripe.errors.StripeCardError) return declined(error);
  if (error instanceof Stripe.errors.StripeRateLimitError) return rateLimited(error);
  if (error.statusCode === 409 || error.code === 'idempotency_key_in_use') return conflict(error);
  if (error instanceof Stripe.errors.StripeIdempotencyError) {
    return new ProcessorError('invalid_request', message(error), {
      processorCode: 'idempotency_key_reused',
    });
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError) {
    return new ProcessorError('invalid_request', message(error), {
      processorCode: error.code ?? error.rawType ?? 'invalid_request_error',
    });
  }
  if (
    error instanceof Stripe.errors.StripeAuthenticationError ||
    error instanceof Stripe.errors.StripePermissionError
  ) {
    return new ProcessorError('authentication', message(error), {
      processorCode: error.code ?? error.rawType ?? error.type,
      retryable: false,
    });
  }
  return serverError(error);
}

function declined(error: StripeError): ProcessorError {
  const declineCode = normaliseDeclineCode(error) ?? 'card_declined';
  const hardDecline = isHardDecline(declineCode, error.advice_code);
  return new ProcessorError('declined', message(error), {
    processorCode: error.code ?? 'card_declined',
    declineCode,
    hardDecline,
    retryable: false,
  });
}

function rateLimited(error: StripeError): ProcessorError {
  const retryAfterMs = retryAfterMsOf(header(error, 'retry-after'));
  return new ProcessorError('rate_limited', message(error), {
    processorCode: error.code ?? 'rate_limit',
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

// 409: another request with the same key is still running, so its outcome is not known yet.
function conflict(error: StripeError): ProcessorError {
  return new ProcessorError('timeout_unknown_outcome', message(error), {
    processorCode:
      error.rawType === 'idempotency_error' ? 'idempotency_key_in_use' : (error.code ?? 'conflict'),
    retryable: true,
  });
}

function serverError(error: StripeError): ProcessorError {
  const status = error.statusCode ?? 0;
  const shouldRetry = header(error, 'stripe-should-retry');
  const processorCode = `http_${status}`;
  if (status >= 500 && shouldRetry === 'true') {
    return new ProcessorError('unavailable', message(error), { processorCode, retryable: true });
  }
  // Retrying the same key replays a saved 5xx, so say so when Stripe tells us not to.
  return new ProcessorError('timeout_unknown_outcome', message(error), {
    processorCode,
    retryable: shouldRetry !== 'false',
  });
}

function connectionFailure(error: StripeError): ProcessorError {
  const code = connectionCode(error);
  const notSent = code !== undefined && (NOT_SENT_CODES.has(code) || TLS_FAILURE.test(code));
  if (notSent) {
    return new ProcessorError('unavailable', `Stripe unreachable (${code}): ${error.message}`, {
      processorCode: code,
    });
  }
  return new ProcessorError(
    'timeout_unknown_outcome',
    `no answer from Stripe (${code ?? 'connection closed'}); the request may have been processed`,
    { processorCode: code ?? 'connection_error', retryable: true },
  );
}

/** The Node error code under the SDK's wrapper (`detail`, or a body error's `exception`). */
export function connectionCode(error: StripeError): string | undefined {
  const detail = error.detail as { code?: unknown; exception?: { code?: unknown } } | undefined;
  const code = detail?.code ?? detail?.exception?.code;
  return typeof code === 'string' ? code : undefined;
}

function unexpected(error: unknown): ProcessorError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ProcessorError('timeout_unknown_outcome', `unexpected Stripe SDK failure: ${reason}`, {
    processorCode: 'unexpected_error',
    retryable: true,
  });
}

function header(error: StripeError, name: string): string | undefined {
  const headers = (error.headers ?? {}) as Record<string, string | string[] | undefined>;
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMsOf(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function message(error: StripeError): string {
  const requestId = error.requestId ? ` [${error.requestId}]` : '';
  return `${error.message || error.type}${requestId}`;
}
