import Stripe from 'stripe';
import { ProcessorError } from '../../../libs/contracts/src';
import { mapStripeError, retryAfterMsOf } from './stripe-errors';

type Raw = Stripe.StripeRawError;

// Builds the error the SDK itself builds for an HTTP answer (status → class).
function fromResponse(raw: Raw): Stripe.errors.StripeError {
  return Stripe.errors.StripeError.generate(raw);
}

function connectionError(code?: string): Stripe.errors.StripeConnectionError {
  const detail = Object.assign(new Error(code ?? 'socket hang up'), code ? { code } : {});
  return new Stripe.errors.StripeConnectionError({
    message: 'An error occurred with our connection to Stripe.',
    detail,
  });
}

describe('mapStripeError', () => {
  describe('card errors', () => {
    it.each([
      ['insufficient_funds', false],
      ['generic_decline', false],
      ['do_not_honor', false],
      ['fraudulent', true],
      ['stolen_card', true],
      ['lost_card', true],
      ['pickup_card', true],
    ])('%s is declined, hard=%s', (declineCode, hard) => {
      const error = mapStripeError(
        fromResponse({
          statusCode: 402,
          type: 'card_error',
          code: 'card_declined',
          decline_code: declineCode,
          message: 'Your card was declined.',
        }),
      );
      expect(error).toBeInstanceOf(ProcessorError);
      expect(error).toMatchObject({
        kind: 'declined',
        declineCode,
        hardDecline: hard,
        processorCode: 'card_declined',
        retryable: false,
        knownNotProcessed: false,
      });
    });

    it('falls back to the code when there is no decline_code', () => {
      const error = mapStripeError(
        new Stripe.errors.StripeCardError({ code: 'expired_card', message: 'expired' }),
      );
      expect(error).toMatchObject({
        kind: 'declined',
        declineCode: 'expired_card',
        hardDecline: true,
      });
    });

    it('follows the advice code over the decline code', () => {
      const soft = new Stripe.errors.StripeCardError({
        code: 'card_declined',
        decline_code: 'generic_decline',
        advice_code: 'do_not_try_again',
      });
      expect(mapStripeError(soft).hardDecline).toBe(true);
    });
  });

  describe('rate limits', () => {
    it('429 is rate_limited with Retry-After in ms', () => {
      const error = mapStripeError(
        fromResponse({
          statusCode: 429,
          type: 'invalid_request_error',
          code: 'rate_limit',
          headers: { 'retry-after': '2' },
        }),
      );
      expect(error).toMatchObject({
        kind: 'rate_limited',
        retryAfterMs: 2000,
        retryable: true,
        knownNotProcessed: true,
      });
    });

    it('429 without Retry-After leaves the delay to our backoff', () => {
      const error = mapStripeError(fromResponse({ statusCode: 429, code: 'rate_limit' }));
      expect(error.kind).toBe('rate_limited');
      expect(error.retryAfterMs).toBeUndefined();
    });

    it('reads Retry-After as seconds or an HTTP date', () => {
      expect(retryAfterMsOf('1.5')).toBe(1500);
      const now = Date.parse('2026-11-01T00:00:00Z');
      expect(retryAfterMsOf('Sun, 01 Nov 2026 00:00:03 GMT', now)).toBe(3000);
      expect(retryAfterMsOf('soon')).toBeUndefined();
    });
  });

  describe('server errors', () => {
    it('5xx with Stripe-Should-Retry: true is unavailable and retryable', () => {
      const error = mapStripeError(
        fromResponse({
          statusCode: 503,
          type: 'api_error',
          headers: { 'stripe-should-retry': 'true' },
        }),
      );
      expect(error).toMatchObject({
        kind: 'unavailable',
        retryable: true,
        knownNotProcessed: true,
      });
    });

    it('5xx with Stripe-Should-Retry: false is an unknown outcome, not retryable', () => {
      const error = mapStripeError(
        fromResponse({
          statusCode: 500,
          type: 'api_error',
          headers: { 'stripe-should-retry': 'false' },
        }),
      );
      expect(error).toMatchObject({
        kind: 'timeout_unknown_outcome',
        retryable: false,
        knownNotProcessed: false,
        processorCode: 'http_500',
      });
    });

    it('5xx without Stripe-Should-Retry is an unknown outcome that may be re-sent', () => {
      const error = mapStripeError(fromResponse({ statusCode: 502, type: 'api_error' }));
      expect(error).toMatchObject({ kind: 'timeout_unknown_outcome', retryable: true });
    });
  });

  describe('connection errors', () => {
    it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'CERT_HAS_EXPIRED'])(
      '%s (request never sent) is unavailable',
      (code) => {
        expect(mapStripeError(connectionError(code))).toMatchObject({
          kind: 'unavailable',
          processorCode: code,
          knownNotProcessed: true,
        });
      },
    );

    it.each(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', undefined])(
      '%s (maybe sent) is an unknown outcome',
      (code) => {
        expect(mapStripeError(connectionError(code))).toMatchObject({
          kind: 'timeout_unknown_outcome',
          knownNotProcessed: false,
        });
      },
    );

    it('reads the code of a body cut short after the headers', () => {
      const detail = Object.assign(new Error('Failed to read the response body'), {
        exception: Object.assign(new Error('aborted'), { code: 'ECONNRESET' }),
      });
      const error = new Stripe.errors.StripeConnectionError({ message: 'x', detail });
      expect(mapStripeError(error)).toMatchObject({
        kind: 'timeout_unknown_outcome',
        processorCode: 'ECONNRESET',
      });
    });
  });

  describe('request errors', () => {
    it('idempotency key reused with other parameters is invalid_request', () => {
      const error = mapStripeError(
        fromResponse({ statusCode: 400, type: 'idempotency_error', message: 'Keys for…' }),
      );
      expect(error).toMatchObject({
        kind: 'invalid_request',
        processorCode: 'idempotency_key_reused',
      });
    });

    it('409: the same key still running is an unknown outcome', () => {
      const error = mapStripeError(
        fromResponse({ statusCode: 409, type: 'idempotency_error', message: 'in progress' }),
      );
      expect(error).toMatchObject({
        kind: 'timeout_unknown_outcome',
        processorCode: 'idempotency_key_in_use',
        knownNotProcessed: false,
      });
    });

    it('invalid request carries Stripe’s code', () => {
      const error = mapStripeError(
        fromResponse({
          statusCode: 400,
          type: 'invalid_request_error',
          code: 'payment_intent_unexpected_state',
        }),
      );
      expect(error).toMatchObject({
        kind: 'invalid_request',
        processorCode: 'payment_intent_unexpected_state',
        retryable: false,
      });
    });

    it('404 resource_missing is invalid_request', () => {
      const error = mapStripeError(
        fromResponse({ statusCode: 404, type: 'invalid_request_error', code: 'resource_missing' }),
      );
      expect(error).toMatchObject({ kind: 'invalid_request', processorCode: 'resource_missing' });
    });

    it.each([401, 403])('%s is authentication, not retryable', (statusCode) => {
      const error = mapStripeError(fromResponse({ statusCode, type: 'invalid_request_error' }));
      expect(error).toMatchObject({ kind: 'authentication', retryable: false });
    });
  });

  it('passes a ProcessorError through and treats anything else as unknown outcome', () => {
    const own = new ProcessorError('invalid_request', 'x');
    expect(mapStripeError(own)).toBe(own);
    expect(mapStripeError(new TypeError('boom'))).toMatchObject({
      kind: 'timeout_unknown_outcome',
      processorCode: 'unexpected_error',
    });
  });
});
