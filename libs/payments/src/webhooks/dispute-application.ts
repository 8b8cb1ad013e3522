import { EntityManager } from 'typeorm';
import { DisputeStatus, disputeChange, isFinalDispute, newId } from '../../../domain/src';
import { DisputeEventType, Subjects } from '../../../contracts/src';
import { OutboxMessage } from '../../../messaging/src';
import { DISPUTE_COLUMNS, DisputeView, toDisputeView } from '../disputes/dispute.view';
import { disputeEventMessage } from '../finance-events';
import { lockPayment } from '../processing/payment-store';
import { paymentIdOfCharge, paymentIdOfReference } from './charge-fee.store';
import { DisputeEffect } from './webhook-effect';
import { Outcome, applied, ignored, orphan } from './webhook-outcome';
import { preparedSql } from '../../../persistence/src';

const CLOSING_EVENT: Readonly<Partial<Record<DisputeStatus, DisputeEventType>>> = {
  WON: 'won',
  LOST: 'lost',
  WARNING_CLOSED: 'closed',
  PREVENTED: 'closed',
};

const LOCK_DISPUTE_SQL = preparedSql(
  `SELECT ${DISPUTE_COLUMNS} FROM disputes
     WHERE processor = $1 AND processor_reference = $2 FOR UPDATE`,
);
const PAYMENT_BY_ID_SQL = preparedSql(`SELECT id FROM payments WHERE id = $1 AND processor = $2`);
const INSERT_DISPUTE_SQL = preparedSql(
  `INSERT INTO disputes (id, processor, processor_reference, payment_id, amount, currency,
       status, reason, evidence_due_by, last_event_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${DISPUTE_COLUMNS}`,
);
const UPDATE_DISPUTE_SQL = preparedSql(
  `UPDATE disputes SET status = $2, amount = $3, currency = $4, reason = $5,
       evidence_due_by = $6, last_event_at = $7, updated_at = now()
     WHERE id = $1 RETURNING ${DISPUTE_COLUMNS}`,
);

/**
 * Upserts a dispute monotonically. The newest report of the furthest stage wins: a later stage
 * always, the same stage only from a newer event, nothing once closed. So any order of the same
 * events, duplicates included, ends in the same dispute, and `opened` and its closing event are
 * each announced once. The payment is untouched (it stays SUCCEEDED) but locked, so reports of
 * one payment's disputes apply one at a time.
 */
export async function applyDispute(
  tx: EntityManager,
  subjects: Subjects,
  processor: string,
  effect: DisputeEffect,
  eventAt: Date,
): Promise<Outcome> {
  const paymentId = await disputedPaymentId(tx, processor, effect);
  if (!paymentId || !(await lockPayment(tx, paymentId))) {
    return orphan(`no payment of ours for dispute ${effect.processorReference}`);
  }
  const [row] = await tx.query(LOCK_DISPUTE_SQL, [processor, effect.processorReference]);
  if (!row) {
    const dispute = await insertDispute(tx, processor, paymentId, effect, eventAt);
    const closing = CLOSING_EVENT[dispute.status];
    const messages: OutboxMessage[] = [disputeEventMessage(subjects, 'opened', dispute)];
    if (closing) messages.push(disputeEventMessage(subjects, closing, dispute));
    return applied(messages);
  }
  const current = toDisputeView(row);
  if (current.paymentId !== paymentId) {
    return ignored(`dispute ${current.id} belongs to payment ${current.paymentId}`);
  }
  const change = disputeChange(current, { status: effect.status, eventAt });
  if (change === 'stale') {
    return ignored(
      `stale: dispute ${current.id} is ${current.status}, event says ${effect.status}`,
    );
  }
  const updated = await updateDispute(tx, current.id, effect, eventAt);
  if (change === 'advance') {
    const type = isFinalDispute(updated.status) ? CLOSING_EVENT[updated.status]! : 'updated';
    return applied([disputeEventMessage(subjects, type, updated)]);
  }
  const changed =
    updated.amount !== current.amount ||
    updated.reason !== current.reason ||
    updated.evidenceDueBy?.getTime() !== current.evidenceDueBy?.getTime();
  return applied(changed ? [disputeEventMessage(subjects, 'updated', updated)] : []);
}

/** By the disputed PaymentIntent, else by the charge we recorded, else our id in its metadata. */
async function disputedPaymentId(
  tx: EntityManager,
  processor: string,
  effect: DisputeEffect,
): Promise<string | null> {
  if (effect.match.processorReference) {
    const id = await paymentIdOfReference(tx, processor, effect.match.processorReference);
    if (id) return id;
  }
  if (effect.chargeReference) {
    const id = await paymentIdOfCharge(tx, processor, effect.chargeReference);
    if (id) return id;
  }
  if (!effect.match.paymentId) return null;
  const [row] = await tx.query(PAYMENT_BY_ID_SQL, [effect.match.paymentId, processor]);
  return row?.id ?? null;
}

async function insertDispute(
  tx: EntityManager,
  processor: string,
  paymentId: string,
  effect: DisputeEffect,
  eventAt: Date,
): Promise<DisputeView> {
  const [row] = await tx.query(INSERT_DISPUTE_SQL, [
    newId('dsp'),
    processor,
    effect.processorReference,
    paymentId,
    effect.amount,
    effect.currency,
    effect.status,
    effect.reason,
    effect.evidenceDueBy,
    eventAt,
  ]);
  return toDisputeView(row);
}

async function updateDispute(
  tx: EntityManager,
  id: string,
  effect: DisputeEffect,
  eventAt: Date,
): Promise<DisputeView> {
  // UPDATE … RETURNING answers [rows, count] through TypeORM.
  const [rows] = await tx.query(UPDATE_DISPUTE_SQL, [
    id,
    effect.status,
    effect.amount,
    effect.currency,
    effect.reason,
    effect.evidenceDueBy,
    eventAt,
  ]);
  return toDisputeView(rows[0]);
}
