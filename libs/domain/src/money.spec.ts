import fc from 'fast-check';
import { MAX_GRAPHQL_INT, currencyExponent, maxAmount, parseCurrency } from './currencies';
import { CurrencyCode } from './currencies';
import { amountProblem } from './money';

describe('currencies', () => {
  it('knows ISO 4217 minor-unit exponents', () => {
    expect(currencyExponent(parseCurrency('JPY')!)).toBe(0);
    expect(currencyExponent(parseCurrency('USD')!)).toBe(2);
    expect(currencyExponent(parseCurrency('EUR')!)).toBe(2);
    expect(currencyExponent(parseCurrency('KWD')!)).toBe(3);
    expect(currencyExponent(parseCurrency('BHD')!)).toBe(3);
    expect(currencyExponent(parseCurrency('KRW')!)).toBe(0);
    expect(currencyExponent(parseCurrency('CLF')!)).toBe(4);
  });

  it('is case-insensitive in and upper-case out; unknown codes are refused', () => {
    expect(parseCurrency(' usd ')).toBe('USD');
    expect(parseCurrency('XXX')).toBeNull();
    expect(parseCurrency('US')).toBeNull();
    expect(parseCurrency('')).toBeNull();
  });

  it('caps the largest amount at ten million major units and at GraphQL Int', () => {
    expect(maxAmount('JPY' as CurrencyCode)).toBe(10_000_000);
    expect(maxAmount('USD' as CurrencyCode)).toBe(1_000_000_000);
    expect(maxAmount('KWD' as CurrencyCode)).toBe(MAX_GRAPHQL_INT);
  });
});

describe('amountProblem', () => {
  const usd = 'USD' as CurrencyCode;

  it('accepts exactly the positive integers up to the currency maximum (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -1e12, max: 1e12 }), fc.double({ noNaN: true })),
        (amount) => {
          const ok = Number.isSafeInteger(amount) && amount > 0 && amount <= maxAmount(usd);
          expect(amountProblem(amount, usd) === null).toBe(ok);
        },
      ),
    );
  });

  it('explains each refusal', () => {
    expect(amountProblem(0, usd)).toMatch(/greater than 0/);
    expect(amountProblem(1.5, usd)).toMatch(/integer/);
    expect(amountProblem(1_000_000_001, usd)).toMatch(/at most 1000000000/);
  });
});
