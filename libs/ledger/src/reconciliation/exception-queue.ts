import { DataSource, EntityManager } from 'typeorm';
import { LedgerQueryRejected } from '../ledger-queries';
import {
  ExceptionAuditDto,
  ExceptionPageDto,
  ExceptionStatus,
  ExceptionType,
  ExceptionsRequest,
  ItemStatus,
  ReconciliationExceptionDto,
  decodeExceptionCursor,
  encodeExceptionCursor,
} from './exception-contract';

/** `opened_at` as ISO text with microseconds (a JS Date would lose them and break the keyset). */
const OPENED_AT_US = `to_char(e.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const EXCEPTION_COLUMNS = `
  e.id, e.type, e.status, e.processor, e.currency, e.amount_at_stake, e.opened_at,
  ${OPENED_AT_US} AS opened_at_us,
  extract(epoch FROM coalesce(e.resolved_at, now()) - e.opened_at)::bigint AS age_seconds,
  e.resolved_at, e.resolved_by, e.resolution_reason, e.correction_source_id,
  i.id AS item_id, i.kind, i.item_key, i.status AS item_status, i.processor AS item_processor,
  i.currency AS item_currency, i.payment_id, i.refund_id, i.dispute_id, i.payout_id,
  i.source_reference, i.balance_transaction_count, i.processor_amount, i.processor_fee,
  i.processor_currency, i.gateway_amount, i.ledger_amount, i.ledger_fee,
  i.amount_at_stake AS item_amount_at_stake, i.occurred_at, i.reconciled_at`;

const iso = (v: unknown) => (v as Date).toISOString();
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown) => (v === null || v === undefined ? null : (v as string).trim());

function toException(
  r: Record<string, unknown>,
  audit: readonly ExceptionAuditDto[],
): ReconciliationExceptionDto {
  return {
    id: r.id as string,
    type: r.type as ExceptionType,
    status: r.status as ExceptionStatus,
    processor: r.processor as string,
    currency: (r.currency as string).trim(),
    amountAtStake: Number(r.amount_at_stake),
    openedAt: iso(r.opened_at),
    ageSeconds: Math.max(0, Number(r.age_seconds)),
    resolvedAt: r.resolved_at ? iso(r.resolved_at) : null,
    resolvedBy: (r.resolved_by as string | null) ?? null,
    resolutionReason: (r.resolution_reason as string | null) ?? null,
    correctionSourceId: (r.correction_source_id as string | null) ?? null,
    item: {
      id: String(r.item_id),
      kind: r.kind as string,
      itemKey: r.item_key as string,
      status: r.item_status as ItemStatus,
      processor: r.item_processor as string,
      currency: (r.item_currency as string).trim(),
      paymentId: (r.payment_id as string | null) ?? null,
      refundId: (r.refund_id as string | null) ?? null,
      disputeId: (r.dispute_id as string | null) ?? null,
      payoutId: (r.payout_id as string | null) ?? null,
      sourceReference: (r.source_reference as string | null) ?? null,
      balanceTransactionCount: Number(r.balance_transaction_count),
      processorAmount: num(r.processor_amount),
      processorFee: num(r.processor_fee),
      processorCurrency: str(r.processor_currency),
      gatewayAmount: num(r.gateway_amount),
      ledgerAmount: num(r.ledger_amount),
      ledgerFee: num(r.ledger_fee),
      amountAtStake: Number(r.item_amount_at_stake),
      occurredAt: iso(r.occurred_at),
      reconciledAt: iso(r.reconciled_at),
    },
    audit,
    cursor: encodeExceptionCursor(r.opened_at_us as string, r.id as string),
  };
}

type Sql = Pick<EntityManager, 'query'>;

/**
 * The exception queue: oldest opened first, keyset-paginated on (opened_at, id), filtered in
 * SQL; each exception with its item and its audit trail (one more query for the whole page).
 */
export class ExceptionQueue {
  constructor(private readonly dataSource: DataSource) {}

  async list(request: ExceptionsRequest): Promise<ExceptionPageDto> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    const f = request.filter;
    if (f.status) add('e.status = ?', f.status);
    if (f.type) add('e.type = ?', f.type);
    if (f.processor) add('e.processor = ?', f.processor);
    if (f.currency) add('e.currency = ?', f.currency);
    if (f.openedAfter) add('e.opened_at >= ?', f.openedAfter);
    if (f.openedBefore) add('e.opened_at < ?', f.openedBefore);
    if (request.after) {
      const position = decodeExceptionCursor(request.after);
      if (!position) {
        throw new LedgerQueryRejected(
          'BAD_USER_INPUT',
          'after is not a cursor from this API',
          'after',
        );
      }
      params.push(position.openedAt, position.id);
      where.push(`(e.opened_at, e.id) > ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(request.first + 1);
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT ${EXCEPTION_COLUMNS}
         FROM reconciliation_exceptions e JOIN reconciliation_items i ON i.id = e.item_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.opened_at, e.id
        LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, request.first);
    const audit = await auditTrails(
      this.dataSource,
      page.map((r) => r.id as string),
    );
    return {
      exceptions: page.map((r) => toException(r, audit.get(r.id as string) ?? [])),
      hasNextPage: rows.length > request.first,
    };
  }
}

/** One exception with its item and audit trail, read through `sql` (e.g. inside a transaction). */
export async function exceptionById(
  sql: Sql,
  id: string,
): Promise<ReconciliationExceptionDto | null> {
  const [row]: Array<Record<string, unknown>> = await sql.query(
    `SELECT ${EXCEPTION_COLUMNS}
       FROM reconciliation_exceptions e JOIN reconciliation_items i ON i.id = e.item_id
      WHERE e.id = $1`,
    [id],
  );
  if (!row) return null;
  const audit = await auditTrails(sql, [id]);
  return toException(row, audit.get(id) ?? []);
}

async function auditTrails(
  sql: Sql,
  ids: readonly string[],
): Promise<Map<string, ExceptionAuditDto[]>> {
  const trails = new Map<string, ExceptionAuditDto[]>();
  if (ids.length === 0) return trails;
  const rows: Array<Record<string, unknown>> = await sql.query(
    `SELECT exception_id, action, actor, reason, details, at
       FROM reconciliation_exception_audit WHERE exception_id = ANY($1) ORDER BY at, id`,
    [ids],
  );
  for (const r of rows) {
    const list = trails.get(r.exception_id as string) ?? [];
    list.push({
      action: r.action as string,
      actor: r.actor as string,
      reason: r.reason as string,
      details: r.details ?? null,
      at: iso(r.at),
    });
    trails.set(r.exception_id as string, list);
  }
  return trails;
}
