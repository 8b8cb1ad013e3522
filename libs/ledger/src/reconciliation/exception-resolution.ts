import { DataSource } from 'typeorm';
import { Logger, Metrics } from '../../../observability/src';
import { LedgerBooks } from '../ledger-books';
import { LedgerQueryRejected } from '../ledger-queries';
import { PlannedEntry } from '../posting-rules';
import {
  CorrectionRefused,
  CorrectionSubject,
  postReconciliationCorrection,
} from './correction-posting';
import { ExceptionType, ReconciliationExceptionDto, ResolveRequest } from './exception-contract';
import { exceptionById } from './exception-queue';

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * An operator's resolution of an open exception. In ONE transaction: the exception row locked,
 * the correcting entry (optional) booked through LedgerBooks under its deterministic source id,
 * the status changed, and the audit row (actor, reason, what was booked) written. Journal rows
 * are only ever added, never edited.
 */
export class ExceptionResolution {
  constructor(
    private readonly dataSource: DataSource,
    private readonly books: LedgerBooks,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  async resolve(request: ResolveRequest): Promise<ReconciliationExceptionDto> {
    const resolved = await this.dataSource.transaction(async (tx) => {
      // The ledger's writer lock first (a no-op booking), then the row: the same order as a
      // batch that would touch exceptions, so the two can never deadlock.
      if (request.postCorrection) await this.books.bookPlanned(tx, []);
      const [row]: Array<Record<string, unknown>> = await tx.query(
        `SELECT e.id, e.type, e.status, e.processor, e.currency, e.amount_at_stake,
                i.kind, i.payment_id, i.processor_amount, i.processor_fee, i.ledger_amount, i.ledger_fee
           FROM reconciliation_exceptions e JOIN reconciliation_items i ON i.id = e.item_id
          WHERE e.id = $1
          FOR UPDATE OF e`,
        [request.id],
      );
      if (!row) {
        throw new LedgerQueryRejected(
          'NOT_FOUND',
          `reconciliation exception ${request.id} not found`,
        );
      }
      if (row.status !== 'open') {
        throw new LedgerQueryRejected(
          'INVALID_STATE',
          `reconciliation exception ${request.id} is ${row.status as string}; only an open one can be resolved`,
        );
      }
      const correction = request.postCorrection ? plannedCorrection(row) : null;
      const booked = correction ? await this.books.bookPlanned(tx, [correction]) : 0;
      await tx.query(
        `UPDATE reconciliation_exceptions
            SET status = $2, resolved_at = now(), resolved_by = $3, resolution_reason = $4,
                correction_source_id = $5, updated_at = now()
          WHERE id = $1`,
        [
          request.id,
          request.resolution,
          request.actor,
          request.reason,
          correction?.sourceEventId ?? null,
        ],
      );
      await tx.query(
        `INSERT INTO reconciliation_exception_audit (exception_id, action, actor, reason, details)
         VALUES ($1, $2, $3, $4, $5)`,
        [
          request.id,
          request.resolution,
          request.actor,
          request.reason,
          JSON.stringify({
            requestId: request.requestId ?? null,
            correction: correction && describe(correction, booked > 0),
          }),
        ],
      );
      return (await exceptionById(tx, request.id))!;
    });
    this.metrics.reconciliationExceptionsResolved.inc({ resolution: request.resolution });
    this.logger.info(
      {
        requestId: request.requestId,
        clientId: request.actor,
        exceptionId: request.id,
        resolution: request.resolution,
        correctionSourceId: resolved.correctionSourceId,
      },
      'reconciliation exception resolved by an operator',
    );
    return resolved;
  }
}

function plannedCorrection(row: Record<string, unknown>): PlannedEntry {
  const subject: CorrectionSubject = {
    exceptionId: row.id as string,
    type: row.type as ExceptionType,
    kind: row.kind as string,
    processor: row.processor as string,
    currency: (row.currency as string).trim(),
    paymentId: (row.payment_id as string | null) ?? null,
    processorAmount: num(row.processor_amount),
    processorFee: num(row.processor_fee),
    ledgerAmount: num(row.ledger_amount),
    ledgerFee: num(row.ledger_fee),
  };
  try {
    return postReconciliationCorrection(subject, new Date().toISOString());
  } catch (error) {
    if (error instanceof CorrectionRefused) {
      throw new LedgerQueryRejected('BAD_USER_INPUT', error.message, 'postCorrection');
    }
    throw error;
  }
}

function describe(entry: PlannedEntry, booked: boolean) {
  const debit = entry.lines.find((l) => l.direction === 'debit')!;
  const credit = entry.lines.find((l) => l.direction === 'credit')!;
  return {
    sourceEventId: entry.sourceEventId,
    debitAccount: debit.account.code,
    creditAccount: credit.account.code,
    amount: debit.amount,
    currency: debit.account.currency,
    booked,
  };
}
