import Stripe from 'stripe';
import { ParsedWebhook, ProcessorError } from '../../../libs/contracts/src';

export const DEFAULT_WEBHOOK_TOLERANCE_SEC = 300;

/**
 * Verifies `Stripe-Signature` over the raw body with each configured secret (several during a
 * rotation) and returns the event. Any failure is a `webhook_signature` ProcessorError.
 */
export function verifyStripeWebhook(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  toleranceSec = DEFAULT_WEBHOOK_TOLERANCE_SEC,
): ParsedWebhook {
  if (!signatureHeader) throw signatureError('missing Stripe-Signature header');
  let lastReason = 'no webhook secret configured';
  for (const secret of secrets) {
    try {
      const event = Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, toleranceSec);
      return {
        eventId: event.id,
        type: event.type,
        occurredAt: new Date(event.created * 1000),
        payload: event,
      };
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) {
        throw signatureError(`unreadable webhook (${reasonOf(error)})`);
      }
      lastReason = reasonOf(error);
    }
  }
  throw signatureError(lastReason);
}

function signatureError(reason: string): ProcessorError {
  return new ProcessorError('webhook_signature', `Stripe webhook rejected: ${reason}`, {
    processorCode: 'signature_verification_failed',
    retryable: false,
  });
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}
