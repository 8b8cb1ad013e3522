import { DataSource } from 'typeorm';
import { newId } from '../../../domain/src';
import { ParsedWebhook, PaymentCommand, ProcessorError, Subjects } from '../../../contracts/src';
import { Logger, Metrics } from '../../../observability/src';
import { GroupCommit, preparedSql } from '../../../persistence/src';
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

/**
 * A batch of events (parallel arrays, one element per event): each stored once (unique processor
 * + event id; a repeat, also within the batch, stores nothing) with, only if it is new, the
 * outbox command that applies it. One statement: atomic on its own, one round trip, no
 * BEGIN/COMMIT. Answers the ids stored.
 */
const STORE_WEBHOOKS_SQL = preparedSql(
  `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                          $6::timestamptz[], $7::text[], $8::text[])
       AS t(id, processor, processor_event_id, type, payload, occurred_at, outbox_id, command)
   ), stored AS (
     INSERT INTO webhook_events (id, processor, processor_event_id, type, payload, occurred_at)
     SELECT id, processor, processor_event_id, type, payload::jsonb, occurred_at FROM input
     ON CONFLICT (processor, processor_event_id) DO NOTHING RETURNING id
   ), queued AS (
     INSERT INTO outbox (id, subject, payload)
     SELECT i.outbox_id, $9, i.command::jsonb FROM input i JOIN stored s ON s.id = i.id
   )
   SELECT id FROM stored`,
);
/**
 * Stored events by processor and processor event id: both as index conditions (the unique
 * index), not joined to an unnest (that plan scans the table). The caller keeps the pairs it
 * asked for.
 * Planned at each execution, never prepared (persistence/src/prepared-statements.ts).
 */
const STORED_WEBHOOKS_SQL = `SELECT id, processor, processor_event_id FROM webhook_events
    WHERE processor = ANY($1) AND processor_event_id = ANY($2)`;

/** One verified event on its way to storage, with the ids it will have if it is new. */
interface EventToStore {
  readonly processor: string;
  readonly event: ParsedWebhook;
  readonly id: string;
  readonly command: string;
}

/** Events stored together at most, and store statements running at once at most. */
const STORE_BATCH = { maxBatch: 200, maxInFlight: 2 } as const;

/** Postgres refused a value of the input (class 22: data exception), not the database. */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}

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

  /**
   * Concurrent receipts are stored together (group commit; see STORE_WEBHOOKS_SQL). A value
   * Postgres refuses (one event's body) fails the statement: the batch is then stored event by
   * event, so only that event is refused.
   */
  private readonly batches = new GroupCommit<EventToStore, WebhookReceipt>(
    (events) => this.storeTogether(events),
    {
      ...STORE_BATCH,
      retryAlone: isDataException,
      onBatch: (size) =>
        this.metrics.groupCommitBatchSize.observe({ writer: 'webhook_intake' }, size),
    },
  );

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
      // Postgres refuses what JSON allows (\u0000 in jsonb, a NUL in an id): the body's fault.
      if (!isDataException(error)) throw error;
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

  private async store(processor: string, event: ParsedWebhook): Promise<WebhookReceipt> {
    const id = newId('evt');
    const command: PaymentCommand = {
      v: 1,
      type: 'webhook',
      webhookEventId: id,
      feeLookup: mayNeedFeeLookup(processor, event.type, event.payload),
    };
    const receipt = await this.batches.submit({
      processor,
      event,
      id,
      command: JSON.stringify(command),
    });
    if (!receipt.duplicate) {
      this.metrics.webhookEventsReceived.inc({ processor, type: event.type });
      this.outboxWritten();
    }
    return receipt;
  }

  private async storeTogether(events: readonly EventToStore[]): Promise<WebhookReceipt[]> {
    const inserted = (await this.dataSource.query(STORE_WEBHOOKS_SQL, [
      events.map((e) => e.id),
      events.map((e) => e.processor),
      events.map((e) => e.event.eventId),
      events.map((e) => e.event.type),
      events.map((e) => JSON.stringify(e.event.payload ?? null)),
      events.map((e) => e.event.occurredAt),
      events.map(() => newId('obx')),
      events.map((e) => e.command),
      this.subjects.command('webhook'),
    ])) as { id: string }[];
    const stored = new Set(inserted.map((row) => row.id));
    const repeats = events.filter((e) => !stored.has(e.id));
    const existing = repeats.length > 0 ? await this.storedIds(repeats) : new Map<string, string>();
    return events.map((e) => {
      if (stored.has(e.id)) return { received: true, duplicate: false, id: e.id };
      const id = existing.get(`${e.processor}\u0000${e.event.eventId}`);
      // (only if the stored row was removed between the two statements: the processor retries)
      if (!id) throw new Error(`webhook ${e.event.eventId} conflicted but is not stored`);
      return { received: true, duplicate: true, id };
    });
  }

  /** The ids under which repeats are stored, by processor and processor event id. */
  private async storedIds(events: readonly EventToStore[]): Promise<Map<string, string>> {
    const rows = (await this.dataSource.query(STORED_WEBHOOKS_SQL, [
      events.map((e) => e.processor),
      events.map((e) => e.event.eventId),
    ])) as { id: string; processor: string; processor_event_id: string }[];
    return new Map(rows.map((r) => [`${r.processor}\u0000${r.processor_event_id}`, r.id]));
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
