import { DataSource } from 'typeorm';
import { DISPUTE_STATUSES, DisputeStatus, PaymentsError } from '../../../domain/src';
import { ApiClient, isAdmin } from '../api-keys/scopes';
import { Conditions, keysetPage } from '../queries/keyset-page';
import { DISPUTE_COLUMNS, DisputeView, toDisputeView } from './dispute.view';

export interface DisputeFilter {
  readonly status?: DisputeStatus | null;
  readonly paymentId?: string | null;
}

export interface DisputePage {
  readonly disputes: DisputeView[];
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
}

const COLUMNS = DISPUTE_COLUMNS.split(',')
  .map((c) => `d.${c.trim()}`)
  .join(', ');

/** Reads disputes, always scoped to the caller's own payments unless it is admin. */
export class DisputeQueryService {
  constructor(private readonly dataSource: DataSource) {}

  /** Newest first, keyset-paginated on our sortable id. */
  async listDisputes(
    client: ApiClient,
    first: number | null | undefined,
    after: string | null | undefined,
    filter: DisputeFilter = {},
  ): Promise<DisputePage> {
    const conditions = new Conditions();
    if (!isAdmin(client)) conditions.add('p.client_id = ?', client.id);
    if (filter.status) {
      if (!DISPUTE_STATUSES.includes(filter.status)) {
        throw PaymentsError.badInput('filter.status', 'unknown dispute status');
      }
      conditions.add('d.status = ?', filter.status);
    }
    if (filter.paymentId) conditions.add('d.payment_id = ?', filter.paymentId);
    const page = await keysetPage(this.dataSource, {
      select: `SELECT ${COLUMNS} FROM disputes d JOIN payments p ON p.id = d.payment_id`,
      idColumn: 'd.id',
      prefix: 'dsp',
      conditions,
      first,
      after,
      map: toDisputeView,
    });
    return {
      disputes: page.items,
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
    };
  }

  /** Disputes of many payments in one query (DataLoader batch function; parents are scoped). */
  async disputesByPaymentIds(paymentIds: readonly string[]): Promise<DisputeView[][]> {
    const rows = await this.dataSource.query(
      `SELECT ${DISPUTE_COLUMNS} FROM disputes WHERE payment_id = ANY($1) ORDER BY created_at, id`,
      [paymentIds],
    );
    const byId = new Map<string, DisputeView[]>(paymentIds.map((id) => [id, []]));
    for (const dispute of rows.map(toDisputeView)) byId.get(dispute.paymentId)?.push(dispute);
    return paymentIds.map((id) => byId.get(id) ?? []);
  }
}
