import { newId } from '../../domain/src';
import {
  DisputeEvent,
  DisputeEventType,
  PayoutEvent,
  PayoutEventType,
  PayoutSnapshot,
  RefundEvent,
  RefundEventType,
  Subjects,
} from '../../contracts/src';
import { OutboxMessage } from '../../messaging/src';
import { DisputeView } from './disputes/dispute.view';
import { RefundView } from './payment.view';

const envelope = () =>
  ({ v: 1, eventId: newId('evt'), occurredAt: new Date().toISOString() }) as const;

/** `refunds.evt.<type>`: a refund settled (announced beside `payments.evt.refunded`). */
export function refundEventMessage(
  subjects: Subjects,
  type: RefundEventType,
  processor: string | null,
  refund: RefundView,
): OutboxMessage {
  const payload: RefundEvent = {
    ...envelope(),
    type,
    paymentId: refund.paymentId,
    processor,
    refund: {
      id: refund.id,
      status: refund.status,
      amount: refund.amount,
      currency: refund.currency,
      processorReference: refund.processorReference,
    },
  };
  return { subject: subjects.refundEvent(type), payload };
}

/** `disputes.evt.<type>` with the dispute as it now is. */
export function disputeEventMessage(
  subjects: Subjects,
  type: DisputeEventType,
  dispute: DisputeView,
): OutboxMessage {
  const payload: DisputeEvent = {
    ...envelope(),
    type,
    dispute: {
      id: dispute.id,
      paymentId: dispute.paymentId,
      processor: dispute.processor,
      processorReference: dispute.processorReference,
      status: dispute.status,
      amount: dispute.amount,
      currency: dispute.currency,
      reason: dispute.reason,
      evidenceDueBy: dispute.evidenceDueBy?.toISOString() ?? null,
    },
  };
  return { subject: subjects.disputeEvent(type), payload };
}

/** `payouts.evt.<type>` with the payout as it now is. */
export function payoutEventMessage(
  subjects: Subjects,
  type: PayoutEventType,
  payout: PayoutSnapshot,
): OutboxMessage {
  const payload: PayoutEvent = { ...envelope(), type, payout };
  return { subject: subjects.payoutEvent(type), payload };
}
