import { DataSource } from 'typeorm';
import { PAYMENT_STATUSES, PaymentStatus, PaymentsError } from '../../../domain/src';
import { Conditions, keysetPage } from './keyset-page';
import { ApiClient, isAdmin } from '../api-keys/scopes';
import {
  ATTEMPT_COLUMNS,
  PAYMENT_COLUMNS,
  PaymentAttemptView,
  PaymentView,
  REFUND_COLUMNS,
  RefundView,
  toAttemptView,
  toPaymentView,
  toRefundView,
} from '../payment.view';

export interface PaymentFilter {
  readonly status?: PaymentStatus | null;
  readonly processor?: string | null;
  readonly createdFrom?: Date | null;
  readonly createdTo?: Date | null;
}

export interface PaymentPage {
  readonly payments: PaymentView[];
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
}

export { MAX_PAGE_SIZE, encodeCursor } from './keyset-page';

/** Reads payments and their children, always scoped to the caller unless it is admin. */
export class PaymentQueryService {
  constructor(private readonly dataSource: DataSource) {}

  async getPayment(client: ApiClient, paymentId: string): Promise<PaymentView> {
    const [row] = await this.dataSource.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1`,
      [paymentId],
    );
    if (!row || (row.client_id !== client.id && !isAdmin(client)))
      throw PaymentsError.notFound('payment');
    return toPaymentView(row);
  }

  /** Newest first, keyset-paginated on the sortable id. */
  async listPayments(
    client: ApiClient,
    first: number | null | undefined,
    after: string | null | undefined,
    filter: PaymentFilter = {},
  ): Promise<PaymentPage> {
    const conditions = new Conditions();
    if (!isAdmin(client)) conditions.add('client_id = ?', client.id);
    if (filter.status) {
      if (!PAYMENT_STATUSES.includes(filter.status)) {
        throw PaymentsError.badInput('filter.status', 'unknown status');
      }
      conditions.add('status = ?', filter.status);
    }
    if (filter.processor) conditions.add('processor = ?', filter.processor);
    if (filter.createdFrom) conditions.add('created_at >= ?', filter.createdFrom);
    if (filter.createdTo) conditions.add('created_at < ?', filter.createdTo);
    const page = await keysetPage(this.dataSource, {
      select: `SELECT ${PAYMENT_COLUMNS} FROM payments`,
      idColumn: 'id',
      prefix: 'pay',
      conditions,
      first,
      after,
      map: toPaymentView,
    });
    return {
      payments: page.items,
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
    };
  }

  /** Attempts of many payments in one query (DataLoader batch function). */
  async attemptsByPaymentIds(paymentIds: readonly string[]): Promise<PaymentAttemptView[][]> {
    const rows = await this.dataSource.query(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE payment_id = ANY($1) ORDER BY created_at, id`,
      [paymentIds],
    );
    return groupBy(paymentIds, rows.map(toAttemptView));
  }

  /** Refunds of many payments in one query (DataLoader batch function). */
  async refundsByPaymentIds(paymentIds: readonly string[]): Promise<RefundView[][]> {
    const rows = await this.dataSource.query(
      `SELECT ${REFUND_COLUMNS} FROM refunds WHERE payment_id = ANY($1) ORDER BY created_at, id`,
      [paymentIds],
    );
    return groupBy(paymentIds, rows.map(toRefundView));
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows: { status: string; n: number }[] = await this.dataSource.query(
      `SELECT status, count(*)::int AS n FROM payments GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}

function groupBy<T extends { paymentId: string }>(ids: readonly string[], items: T[]): T[][] {
  const byId = new Map<string, T[]>(ids.map((id) => [id, []]));
  for (const item of items) byId.get(item.paymentId)?.push(item);
  return ids.map((id) => byId.get(id) ?? []);
}
