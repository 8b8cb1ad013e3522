import {
  listBalanceTransactions,
  retrieveBalanceTransaction,
  listPayouts,
} from './fake-stripe-balance';
import { FormObject } from './fake-stripe-form';
import {
  cancelPaymentIntent,
  capturePaymentIntent,
  createPaymentIntent,
  retrievePaymentIntent,
} from './fake-stripe-payment-intents';
import { createRefund, retrieveRefund } from './fake-stripe-refunds';
import { ApiResponse, apiError } from './fake-stripe-responses';
import { FakeStripeStore } from './fake-stripe-store';

type Handler = (
  store: FakeStripeStore,
  form: FormObject,
  id: string,
  baseUrl: string,
) => ApiResponse;

const ROUTES: readonly (readonly [string, RegExp, Handler])[] = [
  ['POST', /^\/v1\/payment_intents$/, (s, f, _id, base) => createPaymentIntent(s, f, base)],
  ['GET', /^\/v1\/payment_intents\/([^/]+)$/, (s, _f, id) => retrievePaymentIntent(s, id)],
  [
    'POST',
    /^\/v1\/payment_intents\/([^/]+)\/capture$/,
    (s, f, id) => capturePaymentIntent(s, id, f),
  ],
  ['POST', /^\/v1\/payment_intents\/([^/]+)\/cancel$/, (s, f, id) => cancelPaymentIntent(s, id, f)],
  ['POST', /^\/v1\/refunds$/, (s, f) => createRefund(s, f)],
  ['GET', /^\/v1\/refunds\/([^/]+)$/, (s, _f, id) => retrieveRefund(s, id)],
  ['GET', /^\/v1\/balance_transactions$/, (s, f) => listBalanceTransactions(s, f)],
  [
    'GET',
    /^\/v1\/balance_transactions\/([^/]+)$/,
    (s, _f, id) => retrieveBalanceTransaction(s, id),
  ],
  ['GET', /^\/v1\/payouts$/, (s, f) => listPayouts(s, f)],
];

/** The handler for a method and path, or Stripe's 404 for an unknown URL. */
export function route(
  store: FakeStripeStore,
  method: string,
  path: string,
  form: FormObject,
  baseUrl: string,
): ApiResponse {
  for (const [routeMethod, pattern, handler] of ROUTES) {
    const match = method === routeMethod ? pattern.exec(path) : null;
    if (match) return handler(store, form, decodeURIComponent(match[1] ?? ''), baseUrl);
  }
  return apiError(404, {
    type: 'invalid_request_error',
    message: `Unrecognized request URL (${method}: ${path}).`,
  });
}
