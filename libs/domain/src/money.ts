import { CurrencyCode, maxAmount } from './currencies';

/** An amount in integer minor units (cents, yen, fils) of one currency. Never a float. */
export interface Money {
  readonly amount: number;
  readonly currency: CurrencyCode;
}

export function isMinorUnitAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** Why an amount is not acceptable for a payment in this currency, or null when it is. */
export function amountProblem(amount: number, currency: CurrencyCode): string | null {
  if (!isMinorUnitAmount(amount)) return 'amount must be an integer number of minor units';
  if (amount <= 0) return 'amount must be greater than 0';
  const max = maxAmount(currency);
  if (amount > max) return `amount must be at most ${max} minor units of ${currency}`;
  return null;
}
