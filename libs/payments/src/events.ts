import { newId } from '../../domain/src';
import {
  BalanceTransactionSnapshot,
  EventType,
  PaymentEvent,
  PaymentSnapshot,
  Subjects,
} from '../../contracts/src';
import { OutboxMessage } from '../../messaging/src';
import { PaymentView, RefundView } from './payment.view';

/** A payment's processor fee and net, once its balance transaction is known. */
export interface KnownFee {
  readonly fee: number;
  readonly net: number;
  readonly currency: string;
  /** The balance transaction the fee came from, when the processor sent it whole. */
  readonly balanceTransaction?: BalanceTransactionSnapshot;
}

export function snapshotOf(payment: PaymentView): PaymentSnapshot {
  return {
    id: payment.id,
    clientId: payment.clientId,
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    amountCaptured: payment.amountCaptured,
    amountRefunded: payment.amountRefunded,
    processor: payment.processor,
    processorReference: payment.processorReference,
  };
}

/** The outbox message announcing a payment fact (`payments.evt.<type>`). */
export function paymentEventMessage(
  subjects: Subjects,
  type: EventType,
  payment: PaymentView,
  extra: { amount?: number; refund?: RefundView; fee?: KnownFee | null } = {},
): OutboxMessage {
  const payload: PaymentEvent = {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: new Date().toISOString(),
    payment: snapshotOf(payment),
    ...(extra.amount !== undefined ? { amount: extra.amount } : {}),
    ...(extra.refund
      ? {
          refund: {
            id: extra.refund.id,
            status: extra.refund.status,
            amount: extra.refund.amount,
            currency: extra.refund.currency,
          },
        }
      : {}),
    ...(extra.fee
      ? { fee: extra.fee.fee, net: extra.fee.net, feeCurrency: extra.fee.currency }
      : {}),
    ...(extra.fee?.balanceTransaction ? { balanceTransaction: extra.fee.balanceTransaction } : {}),
  };
  return { subject: subjects.event(type), payload };
}
