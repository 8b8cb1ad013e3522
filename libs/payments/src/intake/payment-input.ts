import {
  CAPTURE_METHODS,
  CaptureMethod,
  CurrencyCode,
  PRIORITIES,
  PaymentsError,
  Priority,
  amountProblem,
  findCardNumber,
  hasPrefix,
  parseCurrency,
} from '../../../domain/src';

export const LIMITS = {
  idempotencyKey: 255,
  metadataKeys: 50,
  metadataKeyLength: 40,
  metadataValueLength: 500,
  customerId: 255,
  description: 1000,
  reason: 500,
  paymentMethod: 255,
} as const;

export interface CreatePaymentInput {
  readonly idempotencyKey: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly captureMethod?: CaptureMethod | null;
  readonly customerId?: string | null;
  readonly description?: string | null;
  readonly metadata?: unknown;
  readonly priority?: Priority | null;
  readonly processor?: string | null;
  readonly country?: string | null;
}

export interface ValidCreatePayment {
  readonly idempotencyKey: string;
  readonly amount: number;
  readonly currency: CurrencyCode;
  readonly paymentMethod: string;
  readonly captureMethod: CaptureMethod;
  readonly customerId: string | null;
  readonly description: string | null;
  readonly metadata: Record<string, string> | null;
  readonly priority: Priority;
  readonly processor: string | null;
  readonly country: string | null;
}

/** Refuses card numbers anywhere in the input before anything else is looked at. */
export function assertNoCardData(input: unknown): void {
  const field = findCardNumber(input);
  if (field !== null) {
    throw PaymentsError.badInput(
      field || 'input',
      'looks like a card number: send a processor token (pm_…, sim_…), never card data',
    );
  }
}

export function validIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string' || key.length < 1 || key.length > LIMITS.idempotencyKey) {
    throw PaymentsError.badInput(
      'idempotencyKey',
      `idempotencyKey must be 1-${LIMITS.idempotencyKey} characters`,
    );
  }
  return key;
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) {
    throw PaymentsError.badInput(field, `${field} must be a string of at most ${max} characters`);
  }
  return value;
}

function validMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw PaymentsError.badInput(
      'metadata',
      'metadata must be a flat object of string keys and string values',
    );
  }
  const entries = Object.entries(value);
  if (entries.length > LIMITS.metadataKeys) {
    throw PaymentsError.badInput(
      'metadata',
      `metadata may hold at most ${LIMITS.metadataKeys} keys`,
    );
  }
  for (const [key, v] of entries) {
    if (key.length < 1 || key.length > LIMITS.metadataKeyLength) {
      throw PaymentsError.badInput(
        `metadata.${key}`,
        `metadata keys must be 1-${LIMITS.metadataKeyLength} characters`,
      );
    }
    if (typeof v !== 'string' || v.length > LIMITS.metadataValueLength) {
      throw PaymentsError.badInput(
        `metadata.${key}`,
        `metadata values must be strings of at most ${LIMITS.metadataValueLength} characters`,
      );
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export function validAmount(amount: unknown, currency: CurrencyCode, field = 'amount'): number {
  const problem = amountProblem(amount as number, currency);
  if (problem) throw PaymentsError.badInput(field, problem);
  return amount as number;
}

export function validCurrency(currency: unknown): CurrencyCode {
  const code = typeof currency === 'string' ? parseCurrency(currency) : null;
  if (!code)
    throw PaymentsError.badInput('currency', 'currency must be an ISO 4217 alpha-3 code, e.g. USD');
  return code;
}

function validPaymentMethod(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_]{3,255}$/.test(value)) {
    throw PaymentsError.badInput(
      'paymentMethod',
      'paymentMethod must be a processor token such as pm_… or sim_…',
    );
  }
  return value;
}

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  field: string,
): T {
  if (value === undefined || value === null) return fallback;
  if (!allowed.includes(value as T))
    throw PaymentsError.badInput(field, `${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function validateCreatePayment(input: CreatePaymentInput): ValidCreatePayment {
  assertNoCardData(input);
  const currency = validCurrency(input.currency);
  return {
    idempotencyKey: validIdempotencyKey(input.idempotencyKey),
    amount: validAmount(input.amount, currency),
    currency,
    paymentMethod: validPaymentMethod(input.paymentMethod),
    captureMethod: oneOf(input.captureMethod, CAPTURE_METHODS, 'AUTOMATIC', 'captureMethod'),
    customerId: optionalText(input.customerId, 'customerId', LIMITS.customerId),
    description: optionalText(input.description, 'description', LIMITS.description),
    metadata: validMetadata(input.metadata),
    priority: oneOf(input.priority, PRIORITIES, 'CHECKOUT', 'priority'),
    processor: optionalText(input.processor, 'processor', 50),
    country: validCountry(input.country),
  };
}

function validCountry(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const code = typeof value === 'string' ? value.trim().toUpperCase() : '';
  if (!/^[A-Z]{2}$/.test(code))
    throw PaymentsError.badInput('country', 'country must be an ISO 3166-1 alpha-2 code');
  return code;
}

export function validPaymentId(value: unknown): string {
  if (typeof value !== 'string' || !hasPrefix(value, 'pay')) {
    throw PaymentsError.badInput('paymentId', 'paymentId must be a payment id (pay_…)');
  }
  return value;
}

export function validReason(value: unknown): string | null {
  return optionalText(value, 'reason', LIMITS.reason);
}

/** Optional amount of a capture or refund: a positive integer, checked against the payment later. */
export function validOptionalAmount(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw PaymentsError.badInput(
      'amount',
      'amount must be a positive integer number of minor units',
    );
  }
  return value;
}
