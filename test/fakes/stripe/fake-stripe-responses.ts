/** What a route answers; the server adds the common headers. */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'authentication_error'
  | 'rate_limit_error';

export interface StripeErrorBody {
  readonly type: StripeErrorType;
  readonly message: string;
  readonly code?: string;
  readonly decline_code?: string;
  readonly param?: string;
  readonly [extra: string]: unknown;
}

export function ok(body: unknown): ApiResponse {
  return { status: 200, body };
}

/** Stripe's error envelope: `{ error: { type, code, decline_code, message, param } }`. */
export function apiError(
  status: number,
  error: StripeErrorBody,
  headers?: Record<string, string>,
): ApiResponse {
  return { status, body: { error }, headers };
}

export function invalidRequest(message: string, code?: string, param?: string): ApiResponse {
  return apiError(400, { type: 'invalid_request_error', message, code, param });
}

export function missing(kind: string, id: string, param = 'id'): ApiResponse {
  return apiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    param,
  });
}
