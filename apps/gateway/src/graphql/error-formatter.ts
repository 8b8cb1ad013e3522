import { ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import { API_ERROR_CODES, ApiErrorCode, PaymentsError } from '../../../../libs/domain/src';
import { Logger } from '../../../../libs/observability/src';

function isApiCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && (API_ERROR_CODES as readonly string[]).includes(code);
}

/**
 * The input field a graphql-js coercion message names, without the variable or input object:
 * `… got invalid value 1.5 at "input.amount"; …` → amount; `Field "idempotencyKey" of required
 * type …` → idempotencyKey; `Field "CreatePaymentInput.amount" …` → amount.
 */
export function inputFieldOf(message: string): string | undefined {
  const at = /got invalid value .* at "([^"]+)"/.exec(message)?.[1];
  const missing = /Field "([^"]+)" of required type/.exec(message)?.[1];
  const path = missing ? [at, missing.split('.').pop()].filter(Boolean).join('.') : at;
  if (!path) return undefined;
  return path.split('.').slice(1).join('.') || (missing ? missing.split('.').pop() : undefined);
}

/** Mercurius folds validation errors into one error whose originalError holds the list. */
function flatten(errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.flatMap((error) => {
    const inner = (error.originalError as { errors?: unknown } | undefined)?.errors;
    return Array.isArray(inner) ? (inner as GraphQLError[]) : [error];
  });
}

/**
 * The one place errors become client responses. Every error gets `extensions.code` from the
 * closed set; messages of unexpected errors are replaced (no stack, SQL or secrets leak).
 */
export function toClientError(error: GraphQLError, logger: Logger): GraphQLFormattedError {
  const base = { message: error.message, locations: error.locations, path: error.path };
  const original = error.originalError;
  if (original instanceof PaymentsError) {
    return {
      ...base,
      extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
    };
  }
  if (isApiCode(error.extensions?.code))
    return { ...base, extensions: { code: error.extensions.code } };
  if (!error.path) {
    // Parse, validation and variable-coercion errors: the request itself is malformed.
    const field = inputFieldOf(error.message);
    return { ...base, extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) } };
  }
  logger.error({ err: original ?? error, path: error.path }, 'unexpected error while resolving');
  return {
    message: 'Internal error',
    locations: error.locations,
    path: error.path,
    extensions: { code: 'INTERNAL' },
  };
}

export function graphqlErrorFormatter(logger: Logger) {
  return (execution: ExecutionResult & { statusCode?: number }) => {
    const errors = flatten(execution.errors ?? []).map((e) => toClientError(e, logger));
    const requestLevel = !execution.data && errors.every((e) => !e.path);
    return {
      statusCode: requestLevel ? httpStatusOf(execution.errors ?? []) : 200,
      response: { data: execution.data ?? null, errors },
    };
  };
}

/** A request refused before GraphQL ran keeps its HTTP status (e.g. 413 for a large body). */
function httpStatusOf(errors: readonly GraphQLError[]): number {
  const status = (errors[0]?.originalError as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 400;
}
