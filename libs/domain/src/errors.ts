/** The closed set of error codes clients see in `extensions.code` (shared/API.md). */
export const API_ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_IN_USE',
  'INVALID_STATE',
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** An error meant for the API client: a code from the closed set and a human message. */
export class PaymentsError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PaymentsError';
  }

  /** graphql-js copies these onto errors it builds itself (e.g. for subscriptions). */
  get extensions(): { code: ApiErrorCode; field?: string } {
    return this.field ? { code: this.code, field: this.field } : { code: this.code };
  }

  static badInput(field: string, message: string): PaymentsError {
    return new PaymentsError('BAD_USER_INPUT', message, field);
  }

  static notFound(what: string): PaymentsError {
    return new PaymentsError('NOT_FOUND', `${what} not found`);
  }

  static invalidState(message: string): PaymentsError {
    return new PaymentsError('INVALID_STATE', message);
  }
}
