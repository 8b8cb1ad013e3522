import { CurrencyCode } from '../../../libs/domain/src';
import { ProcessorError } from '../../../libs/contracts/src';
import { assertAmount, paymentIntentParams, refundParams } from './stripe-requests';

const base = {
  idempotencyKey: 'k1',
  paymentId: 'pay_1',
  amount: 1234,
  currency: 'EUR' as CurrencyCode,
  paymentMethodToken: 'pm_card_visa',
  captureMethod: 'MANUAL' as const,
};

describe('Stripe request parameters', () => {
  it('confirms a card-only PaymentIntent with our payment id in metadata', () => {
    expect(
      paymentIntentParams(
        { ...base, metadata: { order: 'o1' }, description: 'Order o1' },
        undefined,
      ),
    ).toEqual({
      amount: 1234,
      currency: 'eur',
      payment_method: 'pm_card_visa',
      allowed_payment_method_types: ['card'],
      confirm: true,
      capture_method: 'manual',
      metadata: { order: 'o1', payment_id: 'pay_1' },
      description: 'Order o1',
    });
  });

  it('passes a Stripe customer through and keeps ours in metadata', () => {
    expect(paymentIntentParams({ ...base, customerId: 'cus_9' }, 'https://r')).toMatchObject({
      customer: 'cus_9',
      return_url: 'https://r',
    });
    const ours = paymentIntentParams({ ...base, customerId: 'cust_1' }, undefined);
    expect(ours.customer).toBeUndefined();
    expect(ours.metadata).toMatchObject({ customer_id: 'cust_1' });
  });

  it("payment_id can't be overridden by caller metadata", () => {
    const params = paymentIntentParams({ ...base, metadata: { payment_id: 'evil' } }, undefined);
    expect(params.metadata).toMatchObject({ payment_id: 'pay_1' });
  });

  it('sends Stripe refund reasons as such and others in metadata', () => {
    const request = {
      idempotencyKey: 'k',
      processorReference: 'pi_1',
      refundId: 'ref_1',
      amount: 5,
    };
    expect(refundParams({ ...request, reason: 'duplicate' })).toEqual({
      payment_intent: 'pi_1',
      amount: 5,
      reason: 'duplicate',
      metadata: { refund_id: 'ref_1' },
    });
    expect(refundParams({ ...request, reason: 'goodwill' })).toEqual({
      payment_intent: 'pi_1',
      amount: 5,
      metadata: { refund_id: 'ref_1', reason: 'goodwill' },
    });
  });

  it('refuses non-positive or fractional amounts before calling Stripe', () => {
    for (const amount of [0, -1, 1.5, Number.NaN]) {
      expect(() => assertAmount(amount, 'capture')).toThrow(ProcessorError);
    }
  });
});
