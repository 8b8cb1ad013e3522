export const WEBHOOK_EVENT_STATUSES = [
  'received',
  'applied',
  'ignored',
  'orphan',
  'failed',
] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/** A stored processor webhook (table webhook_events). */
export interface WebhookEventView {
  readonly id: string;
  readonly processor: string;
  readonly processorEventId: string;
  readonly type: string;
  readonly payload: unknown;
  readonly occurredAt: Date;
  readonly receivedAt: Date;
  readonly appliedAt: Date | null;
  readonly status: WebhookEventStatus;
  readonly attempts: number;
  readonly lastError: string | null;
}

export const WEBHOOK_EVENT_COLUMNS = `id, processor, processor_event_id, type, payload, occurred_at,
  received_at, applied_at, status, attempts, last_error`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function toWebhookEventView(row: Record<string, any>): WebhookEventView {
  return {
    id: row.id,
    processor: row.processor,
    processorEventId: row.processor_event_id,
    type: row.type,
    payload: row.payload,
    occurredAt: new Date(row.occurred_at),
    receivedAt: new Date(row.received_at),
    appliedAt: row.applied_at ? new Date(row.applied_at) : null,
    status: row.status,
    attempts: Number(row.attempts),
    lastError: row.last_error ?? null,
  };
}
