import { DataSource } from 'typeorm';
import {
  CurrencyTotalDto,
  ItemStatus,
  ReconciliationSummaryDto,
  StatusTotalDto,
  SummaryRequest,
} from './exception-contract';

/**
 * The reconciliation of a period in ONE set-based statement: items whose `occurred_at` is in
 * [from, to), grouped by (status, currency) and by currency alone (GROUPING SETS), with the
 * open exceptions of those items (at most one open per item, so the join never doubles a row).
 */
export class ReconciliationSummaryQuery {
  constructor(private readonly dataSource: DataSource) {}

  async summary(request: SummaryRequest): Promise<ReconciliationSummaryDto> {
    const params: unknown[] = [request.from, request.to];
    const where = ['i.occurred_at >= $1', 'i.occurred_at < $2'];
    if (request.processor) {
      params.push(request.processor);
      where.push(`i.processor = $${params.length}`);
    }
    if (request.currency) {
      params.push(request.currency);
      where.push(`i.currency = $${params.length}`);
    }
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT i.status, i.currency, grouping(i.status) AS per_currency,
              count(*)::bigint AS item_count,
              coalesce(sum(i.amount_at_stake), 0)::bigint AS at_stake,
              count(e.id)::bigint AS open_count,
              coalesce(sum(e.amount_at_stake), 0)::bigint AS open_at_stake
         FROM reconciliation_items i
         LEFT JOIN reconciliation_exceptions e ON e.item_id = i.id AND e.status = 'open'
        WHERE ${where.join(' AND ')}
        GROUP BY GROUPING SETS ((i.currency, i.status), (i.currency))
        ORDER BY i.currency, i.status NULLS FIRST`,
      params,
    );
    const byStatus: StatusTotalDto[] = [];
    const totals: CurrencyTotalDto[] = [];
    for (const r of rows) {
      const currency = (r.currency as string).trim();
      if (Number(r.per_currency) === 1) {
        totals.push({
          currency,
          itemCount: Number(r.item_count),
          amountAtStake: Number(r.at_stake),
          openExceptionCount: Number(r.open_count),
          openAmountAtStake: Number(r.open_at_stake),
        });
      } else {
        byStatus.push({
          status: r.status as ItemStatus,
          currency,
          count: Number(r.item_count),
          amountAtStake: Number(r.at_stake),
        });
      }
    }
    return {
      from: new Date(request.from).toISOString(),
      to: new Date(request.to).toISOString(),
      processor: request.processor ?? null,
      currency: request.currency ?? null,
      byStatus,
      totals,
      itemCount: totals.reduce((n, t) => n + t.itemCount, 0),
      openExceptionCount: totals.reduce((n, t) => n + t.openExceptionCount, 0),
    };
  }
}
