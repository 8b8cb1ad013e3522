import { AuthorizeRequest } from '../../../libs/contracts/src';
import { SimulatorPaymentStatus, toPaymentResult } from './simulator-status';
import {
  PaymentEffect,
  SavedError,
  SavedResponse,
  SimulatorPayment,
  SimulatorPaymentState,
} from './simulator-store';
import { TokenBehaviour } from './simulator-tokens';

/** What a call answers and the change it makes, saved together or not at all. */
export interface Decision {
  readonly response: SavedResponse;
  readonly effect?: PaymentEffect;
}

export type ProcessableBehaviour = Exclude<TokenBehaviour, { type: 'unavailable' }>;

export function decideAuthorize(
  request: AuthorizeRequest,
  behaviour: ProcessableBehaviour | undefined,
  reference: string,
): Decision {
  if (!behaviour) {
    return refuse(`No such payment method: '${request.paymentMethodToken}'`, 'resource_missing');
  }
  if (behaviour.type === 'decline') return decline(behaviour.declineCode, behaviour.hardDecline);
  const payment = newPayment(request, reference, initialStatus(request, behaviour));
  return { response: paymentResponse(payment), effect: { type: 'create', payment } };
}

export function decideCapture(
  payment: SimulatorPayment | null,
  reference: string,
  amount: number,
): Decision {
  if (!payment) return missing(reference);
  if (payment.status !== 'authorized') return unexpectedState(payment, 'captured');
  if (amount > payment.amount) {
    return refuse(
      `capture of ${amount} exceeds the ${payment.amount} authorized`,
      'amount_too_large',
    );
  }
  return move(payment, { status: 'succeeded', amountCaptured: amount, amountRefunded: 0 });
}

export function decideCancel(payment: SimulatorPayment | null, reference: string): Decision {
  if (!payment) return missing(reference);
  if (payment.status !== 'authorized' && payment.status !== 'requires_action') {
    return unexpectedState(payment, 'canceled');
  }
  return move(payment, { ...stateOf(payment), status: 'canceled' });
}

export function decideRefund(
  payment: SimulatorPayment | null,
  reference: string,
  amount: number,
  refundReference: string,
): Decision {
  if (!payment) return missing(reference);
  if (payment.status !== 'succeeded') return unexpectedState(payment, 'refunded');
  const left = payment.amountCaptured - payment.amountRefunded;
  if (amount > left) {
    return refuse(`refund of ${amount} exceeds the ${left} left to refund`, 'amount_too_large');
  }
  const next = { ...stateOf(payment), amountRefunded: payment.amountRefunded + amount };
  return {
    response: {
      type: 'refund',
      result: { status: 'succeeded', processorReference: refundReference, amount },
      paymentReference: payment.reference,
    },
    effect: { type: 'update', reference: payment.reference, expected: stateOf(payment), next },
  };
}

function initialStatus(
  request: AuthorizeRequest,
  behaviour: ProcessableBehaviour,
): SimulatorPaymentStatus {
  if (behaviour.type === 'requires_action') return 'requires_action';
  return request.captureMethod === 'AUTOMATIC' ? 'succeeded' : 'authorized';
}

function newPayment(
  request: AuthorizeRequest,
  reference: string,
  status: SimulatorPaymentStatus,
): SimulatorPayment {
  return {
    reference,
    merchantRef: request.paymentId,
    token: request.paymentMethodToken,
    status,
    amount: request.amount,
    currency: request.currency,
    amountCaptured: status === 'succeeded' ? request.amount : 0,
    amountRefunded: 0,
  };
}

function move(payment: SimulatorPayment, next: SimulatorPaymentState): Decision {
  return {
    response: paymentResponse({ ...payment, ...next }),
    effect: { type: 'update', reference: payment.reference, expected: stateOf(payment), next },
  };
}

function stateOf(payment: SimulatorPaymentState): SimulatorPaymentState {
  const { status, amountCaptured, amountRefunded } = payment;
  return { status, amountCaptured, amountRefunded };
}

function paymentResponse(payment: SimulatorPayment): SavedResponse {
  return { type: 'payment', result: toPaymentResult(payment) };
}

function decline(declineCode: string, hardDecline: boolean): Decision {
  const message = `The card was declined (${declineCode}).`;
  return errorDecision({
    kind: 'declined',
    message,
    processorCode: 'card_declined',
    declineCode,
    hardDecline,
    retryable: false,
  });
}

function missing(reference: string): Decision {
  return refuse(`No such payment: '${reference}'`, 'resource_missing');
}

function unexpectedState(payment: SimulatorPayment, verb: string): Decision {
  const message = `payment ${payment.reference} cannot be ${verb} in status ${payment.status}`;
  return refuse(message, 'payment_unexpected_state');
}

function refuse(message: string, processorCode: string): Decision {
  return errorDecision({ kind: 'invalid_request', message, processorCode });
}

function errorDecision(error: SavedError): Decision {
  return { response: { type: 'error', error } };
}
