import { DisputeStatus } from '../../../domain/src';

/** A dispute of one of our payments (table disputes), as the API shows it. */
export interface DisputeView {
  readonly id: string;
  readonly paymentId: string;
  readonly processor: string;
  readonly processorReference: string;
  readonly status: DisputeStatus;
  readonly amount: number;
  readonly currency: string;
  readonly reason: string | null;
  readonly evidenceDueBy: Date | null;
  readonly lastEventAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export const DISPUTE_COLUMNS = `id, payment_id, processor, processor_reference, status, amount,
  currency, reason, evidence_due_by, last_event_at, created_at, updated_at`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function toDisputeView(row: Record<string, any>): DisputeView {
  return {
    id: row.id,
    paymentId: row.payment_id,
    processor: row.processor,
    processorReference: row.processor_reference,
    status: row.status,
    amount: Number(row.amount),
    currency: row.currency,
    reason: row.reason ?? null,
    evidenceDueBy: row.evidence_due_by ? new Date(row.evidence_due_by) : null,
    lastEventAt: new Date(row.last_event_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
