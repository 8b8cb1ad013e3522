import { EntityManager } from 'typeorm';
import { newId, payoutChange } from '../../../domain/src';
import { PayoutSnapshot, Subjects } from '../../../contracts/src';
import { payoutEventMessage } from '../finance-events';
import { PayoutEffect } from './webhook-effect';
import { Outcome, applied, ignored } from './webhook-outcome';
import { preparedSql } from '../../../persistence/src';

const COLUMNS = `id, processor, processor_reference, status, amount, currency, arrival_date,
  failure_code`;

const INSERT_PAYOUT_SQL = preparedSql(
  `INSERT INTO payouts (id, processor, processor_reference, amount, currency, status,
       arrival_date, failure_code)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (processor, processor_reference) DO NOTHING RETURNING ${COLUMNS}`,
);
const LOCK_PAYOUT_SQL = preparedSql(
  `SELECT ${COLUMNS} FROM payouts WHERE processor = $1 AND processor_reference = $2 FOR UPDATE`,
);
const UPDATE_PAYOUT_SQL = preparedSql(
  `UPDATE payouts SET status = $2, amount = $3, currency = $4,
       arrival_date = COALESCE($5, arrival_date), failure_code = $6, updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toPayout(row: Record<string, any>): PayoutSnapshot {
  return {
    id: row.id,
    processor: row.processor,
    processorReference: row.processor_reference,
    status: row.status,
    amount: Number(row.amount),
    currency: row.currency,
    arrivalDate: row.arrival_date ? new Date(row.arrival_date).toISOString() : null,
    failureCode: row.failure_code ?? null,
  };
}

/**
 * Records a payout monotonically (PENDING → PAID | FAILED, PAID → FAILED when the bank returns
 * it) and announces `payouts.evt.paid|failed` once per move. Payouts belong to the processor
 * account, not to a payment: there is no orphan here.
 */
export async function applyPayout(
  tx: EntityManager,
  subjects: Subjects,
  processor: string,
  effect: PayoutEffect,
): Promise<Outcome> {
  const [inserted] = await tx.query(INSERT_PAYOUT_SQL, [
    newId('pyo'),
    processor,
    effect.processorReference,
    effect.amount,
    effect.currency,
    effect.status,
    effect.arrivalDate,
    effect.failureCode,
  ]);
  if (inserted) return announce(subjects, toPayout(inserted));
  const [row] = await tx.query(LOCK_PAYOUT_SQL, [processor, effect.processorReference]);
  const current = toPayout(row);
  const change = payoutChange(current.status, effect.status);
  if (change === 'unchanged') return applied();
  if (change === 'refused') {
    return ignored(`stale: payout ${current.id} is ${current.status}, event says ${effect.status}`);
  }
  const [rows] = await tx.query(UPDATE_PAYOUT_SQL, [
    current.id,
    effect.status,
    effect.amount,
    effect.currency,
    effect.arrivalDate,
    effect.failureCode,
  ]);
  return announce(subjects, toPayout(rows[0]));
}

function announce(subjects: Subjects, payout: PayoutSnapshot): Outcome {
  if (payout.status === 'PENDING') return applied();
  return applied([
    payoutEventMessage(subjects, payout.status === 'PAID' ? 'paid' : 'failed', payout),
  ]);
}
