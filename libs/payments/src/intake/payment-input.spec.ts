import { PaymentsError } from '../../../domain/src';
import { CreatePaymentInput, validateCreatePayment } from './payment-input';

const valid: CreatePaymentInput = {
  idempotencyKey: 'k',
  amount: 1000,
  currency: 'usd',
  paymentMethod: 'sim_ok',
};

function fieldOf(input: Partial<CreatePaymentInput> & Record<string, unknown>): string | undefined {
  try {
    validateCreatePayment({ ...valid, ...input } as CreatePaymentInput);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(PaymentsError);
    expect((error as PaymentsError).code).toBe('BAD_USER_INPUT');
    return (error as PaymentsError).field;
  }
}

describe('validateCreatePayment', () => {
  it('normalises a valid input with defaults', () => {
    expect(validateCreatePayment(valid)).toEqual({
      idempotencyKey: 'k',
      amount: 1000,
      currency: 'USD',
      paymentMethod: 'sim_ok',
      captureMethod: 'AUTOMATIC',
      customerId: null,
      description: null,
      metadata: null,
      priority: 'CHECKOUT',
      processor: null,
      country: null,
    });
  });

  it.each([
    [{ idempotencyKey: '' }, 'idempotencyKey'],
    [{ idempotencyKey: 'x'.repeat(256) }, 'idempotencyKey'],
    [{ amount: 0 }, 'amount'],
    [{ amount: -5 }, 'amount'],
    [{ amount: 10.5 }, 'amount'],
    [{ currency: 'JPY', amount: 10_000_001 }, 'amount'],
    [{ currency: 'XXX' }, 'currency'],
    [{ paymentMethod: 'sim ok' }, 'paymentMethod'],
    [{ paymentMethod: '4242424242424242' }, 'paymentMethod'],
    [{ description: 'card 4242 4242 4242 4242' }, 'description'],
    [{ metadata: { note: '5555555555554444' } }, 'metadata.note'],
    [
      { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
      'metadata',
    ],
    [{ metadata: { n: 1 } }, 'metadata.n'],
    [{ metadata: ['a'] }, 'metadata'],
    [{ metadata: { k: 'v'.repeat(501) } }, 'metadata.k'],
    [{ description: 'd'.repeat(1001) }, 'description'],
    [{ captureMethod: 'LATER' }, 'captureMethod'],
    [{ priority: 'URGENT' }, 'priority'],
    [{ country: 'USA' }, 'country'],
  ])('refuses %j naming field %s', (input, field) => {
    expect(fieldOf(input as Record<string, unknown>)).toBe(field);
  });

  it('accepts 50 metadata keys and a 255-character key', () => {
    const metadata = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect(fieldOf({ metadata, idempotencyKey: 'x'.repeat(255) })).toBeUndefined();
  });
});
