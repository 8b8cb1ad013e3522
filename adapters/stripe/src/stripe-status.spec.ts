import Stripe from 'stripe';
import { STRIPE_STATUS_MAP, toPaymentResult, toProcessorStatus } from './stripe-status';

function intent(fields: Partial<Stripe.PaymentIntent>): Stripe.PaymentIntent {
  return {
    id: 'pi_1',
    object: 'payment_intent',
    amount: 1000,
    amount_received: 0,
    client_secret: 'pi_1_secret_x',
    next_action: null,
    last_payment_error: null,
    status: 'succeeded',
    ...fields,
  } as Stripe.PaymentIntent;
}

describe('Stripe status mapping', () => {
  it('maps every PaymentIntent status', () => {
    expect(STRIPE_STATUS_MAP).toEqual({
      requires_payment_method: 'failed',
      requires_confirmation: 'processing',
      requires_action: 'requires_action',
      processing: 'processing',
      requires_capture: 'authorized',
      canceled: 'canceled',
      succeeded: 'succeeded',
    });
  });

  it('keeps a status newer than the SDK non-final', () => {
    expect(toProcessorStatus('requires_reauthorization')).toBe('processing');
    expect(toProcessorStatus('constructor')).toBe('processing');
  });

  it('reports captured and authorized amounts', () => {
    expect(toPaymentResult(intent({ status: 'succeeded', amount_received: 600 }))).toEqual({
      status: 'succeeded',
      processorReference: 'pi_1',
      amountAuthorized: 1000,
      amountCaptured: 600,
    });
    expect(toPaymentResult(intent({ status: 'requires_capture' }))).toMatchObject({
      status: 'authorized',
      amountAuthorized: 1000,
      amountCaptured: 0,
    });
    expect(toPaymentResult(intent({ status: 'canceled' })).amountAuthorized).toBe(0);
  });

  it('carries the next action of a requires_action intent', () => {
    const result = toPaymentResult(
      intent({
        status: 'requires_action',
        next_action: {
          type: 'redirect_to_url',
          redirect_to_url: { url: 'https://hooks.stripe.com/3ds', return_url: 'https://shop' },
        },
      }),
    );
    expect(result.nextAction).toEqual({
      type: 'redirect_to_url',
      redirectUrl: 'https://hooks.stripe.com/3ds',
      clientSecret: 'pi_1_secret_x',
    });
  });

  it('explains a failed confirmation from last_payment_error', () => {
    const result = toPaymentResult(
      intent({
        status: 'requires_payment_method',
        last_payment_error: {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'insufficient_funds',
          message: 'Your card has insufficient funds.',
        } as Stripe.PaymentIntent.LastPaymentError,
      }),
    );
    expect(result).toMatchObject({
      status: 'failed',
      failure: {
        code: 'card_declined',
        declineCode: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
        retryable: true,
      },
    });
  });
});
