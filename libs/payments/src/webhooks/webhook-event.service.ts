import { DataSource } from 'typeorm';
import { PaymentsError, hasPrefix } from '../../../domain/src';
import { PaymentCommand, Subjects } from '../../../contracts/src';
import { writeOutbox } from '../../../messaging/src';
import { ApiClient } from '../api-keys/scopes';
import { audit } from '../processor-controls/processor-control.service';
import { Conditions, keysetPage } from '../queries/keyset-page';
import {
  WEBHOOK_EVENT_COLUMNS,
  WEBHOOK_EVENT_STATUSES,
  WebhookEventStatus,
  WebhookEventView,
  toWebhookEventView,
} from './webhook-event';

export interface WebhookEventFilter {
  readonly processor?: string | null;
  readonly type?: string | null;
  readonly status?: WebhookEventStatus | null;
}

export interface WebhookEventPage {
  readonly events: WebhookEventView[];
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
}

/** Operators' view of stored webhooks, and their replay (audited). Admin only, by the caller. */
export class WebhookEventService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly subjects: Subjects,
    private readonly outboxWritten: () => void = () => undefined,
  ) {}

  /** Newest first, keyset-paginated on our sortable id. */
  async list(
    first: number | null | undefined,
    after: string | null | undefined,
    filter: WebhookEventFilter = {},
  ): Promise<WebhookEventPage> {
    const conditions = new Conditions();
    if (filter.status) {
      if (!WEBHOOK_EVENT_STATUSES.includes(filter.status)) {
        throw PaymentsError.badInput('filter.status', 'unknown webhook event status');
      }
      conditions.add('status = ?', filter.status);
    }
    if (filter.processor) conditions.add('processor = ?', filter.processor);
    if (filter.type) conditions.add('type = ?', filter.type);
    const page = await keysetPage(this.dataSource, {
      select: `SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events`,
      idColumn: 'id',
      prefix: 'evt',
      conditions,
      first,
      after,
      map: toWebhookEventView,
    });
    return {
      events: page.items,
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
    };
  }

  /**
   * Queues the event to be applied again. Applying is monotonic, so a replay of an applied
   * event changes nothing; an orphan or failed one gets another chance.
   */
  async replay(client: ApiClient, id: string, reason: string | null): Promise<WebhookEventView> {
    if (!hasPrefix(id, 'evt')) throw PaymentsError.notFound('webhook event');
    if (reason !== null && reason.length > 500) {
      throw PaymentsError.badInput('reason', 'reason must be at most 500 characters');
    }
    const event = await this.dataSource.transaction(async (tx) => {
      const [before] = await tx.query(
        `SELECT ${WEBHOOK_EVENT_COLUMNS} FROM webhook_events WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!before) throw PaymentsError.notFound('webhook event');
      // UPDATE … RETURNING answers [rows, count] through TypeORM.
      const [[after]] = await tx.query(
        `UPDATE webhook_events SET status = 'received', last_error = NULL WHERE id = $1
         RETURNING ${WEBHOOK_EVENT_COLUMNS}`,
        [id],
      );
      const command: PaymentCommand = { v: 1, type: 'webhook', webhookEventId: id };
      await writeOutbox(tx, [{ subject: this.subjects.command('webhook'), payload: command }]);
      await audit(tx, {
        actor: client.name,
        action: 'replayWebhookEvent',
        subject: `webhook:${id}`,
        before: { status: before.status, attempts: before.attempts, lastError: before.last_error },
        after: { status: 'received' },
        reason,
      });
      return toWebhookEventView(after);
    });
    this.outboxWritten();
    return event;
  }
}
