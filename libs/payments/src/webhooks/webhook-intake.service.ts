import { DataSource } from 'typeorm';
import { newId } from '../../../domain/src';
import { ParsedWebhook, PaymentCommand, ProcessorError, Subjects } from '../../../contracts/src';
import { Logger, Metrics } from '../../../observability/src';
import { preparedSql } from '../../../persistence/src';
import { ProcessorRouter } from '../routing/processor-router';
import { mayNeedFeeLookup } from './webhook-effect-of';

/** Why a webhook was refused: stored nowhere, answered 400. */
export type WebhookRejectionReason =
  'missing_header' | 'stale_timestamp' | 'bad_signature' | 'malformed' | 'no_secret';

export class WebhookRejected extends Error {
  readonly error = 'invalid_signature';
  constructor(
    readonly reason: WebhookRejectionReason,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookRejected';
  }
}

/** The path names no configured processor (answered 404). */
export class UnknownWebhookProcessor extends Error {
  constructor(readonly processor: string) {
    super(`no configured processor is named "${processor}"`);
    this.name = 'UnknownWebhookProcessor';
  }
}

export interface WebhookReceipt {
  readonly received: true;
  readonly duplicate: boolean;
  readonly id: string;
}

// Stripe and simulator messages, first line only (they never hold the secret).
const REASON_PATTERNS: readonly [RegExp, WebhookRejectionReason][] = [
  [/no .*secret/i, 'no_secret'],
  [/missing|header value|no v1|expected scheme|unable to extract/i, 'missing_header'],
  [/timestamp|tolerance/i, 'stale_timestamp'],
  [/json|unreadable|not a .*event/i, 'malformed'],
];

const STORE_WEBHOOK_SQL = preparedSql(
  `WITH stored AS (
     INSERT INTO webhook_events (id, processor, processor_event_id, type, payload, occurred_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6)
     ON CONFLICT (processor, processor_event_id) DO NOTHING RETURNING id
   ), queued AS (
     INSERT INTO outbox (id, subject, payload) SELECT $7, $8, $9::jsonb FROM stored
   )
   SELECT id FROM stored`,
);
const STORED_WEBHOOK_SQL = preparedSql(
  `SELECT id FROM webhook_events WHERE processor = $1 AND processor_event_id = $2`,
);

/**
 * Webhook intake: verify over the raw bytes with the processor's adapter, store the event once
 * (unique processor event id) with the command to apply it, in one statement. The gateway
 * answers 200 as soon as this returns; the worker applies the event.
 */
export class WebhookIntakeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly router: ProcessorRouter,
    private readonly subjects: Subjects,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly outboxWritten: () => void = () => undefined,
  ) {}

  async receive(
    processor: string,
    rawBody: Buffer | undefined,
    signatureHeader: string | undefined,
  ): Promise<WebhookReceipt> {
    if (!this.router.names.includes(processor)) throw new UnknownWebhookProcessor(processor);
    let event: ParsedWebhook;
    try {
      event = this.verify(processor, rawBody, signatureHeader);
    } catch (error) {
      const rejected = asRejection(error);
      this.metrics.webhookEventsRejected.inc({ processor, reason: rejected.reason });
      this.logger.warn({ processor, reason: rejected.reason }, rejected.message);
      throw rejected;
    }
    try {
      return await this.store(processor, event);
    } catch (error) {
      // jsonb refuses what JSON allows (e.g. \u0000 in a string): the body's fault, not ours.
      if ((error as { code?: unknown }).code !== '22P05') throw error;
      this.metrics.webhookEventsRejected.inc({ processor, reason: 'malformed' });
      throw new WebhookRejected('malformed', 'webhook body holds text Postgres cannot store');
    }
  }

  private verify(
    processor: string,
    rawBody: Buffer | undefined,
    signatureHeader: string | undefined,
  ): ParsedWebhook {
    if (!rawBody || rawBody.length === 0) {
      throw new WebhookRejected('malformed', 'webhook body is empty');
    }
    const event = this.router.adapter(processor).parseWebhook(rawBody, signatureHeader);
    if (
      typeof event.eventId !== 'string' ||
      event.eventId.length === 0 ||
      event.eventId.length > 255 ||
      typeof event.type !== 'string' ||
      event.type.length === 0 ||
      Number.isNaN(event.occurredAt.getTime())
    ) {
      throw new WebhookRejected('malformed', 'webhook event has no usable id, type or time');
    }
    return event;
  }

  /**
   * ONE statement (atomic on its own, one round trip, no BEGIN/COMMIT): the event row and, only
   * if it is new, the outbox command that applies it. A repeat finds the stored id instead.
   */
  private async store(processor: string, event: ParsedWebhook): Promise<WebhookReceipt> {
    const id = newId('evt');
    const command: PaymentCommand = {
      v: 1,
      type: 'webhook',
      webhookEventId: id,
      feeLookup: mayNeedFeeLookup(processor, event.type, event.payload),
    };
    const inserted = (await this.dataSource.query(STORE_WEBHOOK_SQL, [
      id,
      processor,
      event.eventId,
      event.type,
      JSON.stringify(event.payload ?? null),
      event.occurredAt,
      newId('obx'),
      this.subjects.command('webhook'),
      JSON.stringify(command),
    ])) as { id: string }[];
    if (inserted.length === 0) {
      const [existing] = (await this.dataSource.query(STORED_WEBHOOK_SQL, [
        processor,
        event.eventId,
      ])) as { id: string }[];
      // (only if the stored row was removed between the two statements: the processor retries)
      if (!existing) throw new Error(`webhook ${event.eventId} conflicted but is not stored`);
      return { received: true, duplicate: true, id: existing.id };
    }
    this.metrics.webhookEventsReceived.inc({ processor, type: event.type });
    this.outboxWritten();
    return { received: true, duplicate: false, id };
  }
}

function asRejection(error: unknown): WebhookRejected {
  if (error instanceof WebhookRejected) return error;
  if (error instanceof ProcessorError && error.kind === 'webhook_signature') {
    const reason = REASON_PATTERNS.find(([pattern]) => pattern.test(error.message))?.[1];
    return new WebhookRejected(reason ?? 'bad_signature', error.message);
  }
  // Anything else from a parser is an unreadable body, never a server error.
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new WebhookRejected('malformed', `webhook rejected: ${message}`);
}
