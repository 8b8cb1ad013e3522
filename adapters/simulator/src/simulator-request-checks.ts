import { AuthorizeRequest } from '../../../libs/contracts/src';
import { amountProblem, isKnownCurrency, isMinorUnitAmount } from '../../../libs/domain/src';
import { invalidRequest } from './saved-response';

// Parameter checks run before a key is claimed: like Stripe, a malformed request saves nothing.

export function assertAuthorizeRequest(request: AuthorizeRequest, ownedToken: boolean): void {
  if (!ownedToken) {
    throw invalidRequest(
      'payment method token was not issued by the simulator',
      'resource_missing',
    );
  }
  if (!isKnownCurrency(request.currency)) {
    throw invalidRequest(`unknown currency ${request.currency}`, 'parameter_invalid');
  }
  const problem = amountProblem(request.amount, request.currency);
  if (problem) throw invalidRequest(problem, 'parameter_invalid');
  if (!request.paymentId) throw invalidRequest('paymentId is required', 'parameter_missing');
}

// Every parameter that shapes the charge; reusing the key with any of them changed is refused.
export function authorizeParams(request: AuthorizeRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request).filter(([key]) => key !== 'idempotencyKey'));
}

export function assertPositiveAmount(amount: number, operation: string): void {
  if (!isMinorUnitAmount(amount) || amount <= 0) {
    throw invalidRequest(
      `${operation} amount must be a positive integer of minor units`,
      'parameter_invalid',
    );
  }
}

export function assertIdempotencyKey(key: string): void {
  if (!key) throw invalidRequest('idempotencyKey is required', 'parameter_missing');
}
