import { DataSource } from 'typeorm';
import { NatsConnection } from '@nats-io/transport-node';
import { JetStreamClient, jetstream } from '@nats-io/jetstream';
import { newId } from '../../domain/src';
import { Sql, preparedSql } from '../../persistence/src';
import { Logger, Metrics } from '../../observability/src';

export interface OutboxMessage {
  readonly subject: string;
  readonly payload: unknown;
}

/**
 * Inserts the rows of `outboxArrays` given as parameters $first..$first+2: on its own, or as a
 * CTE of a statement that writes its own change beside it (one round trip).
 */
export const outboxInsertSql = (first: number) =>
  `INSERT INTO outbox (id, subject, payload)
   SELECT * FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::jsonb[])`;

const WRITE_OUTBOX_SQL = preparedSql(outboxInsertSql(1));
// The payload as JSON text, published as it is: not parsed into objects by the driver only to be
// serialized again for NATS.
const CLAIM_OUTBOX_SQL = preparedSql(
  `SELECT id, subject, payload::text AS payload FROM outbox
    WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
);
// Planned at each execution, never prepared (persistence/src/prepared-statements.ts): the
// outbox starts empty and grows fast, and a plan cached while it was small scans it all.
const MARK_PUBLISHED_SQL = `UPDATE outbox SET published_at = now() WHERE id = ANY($1)`;

/** Writes messages to the outbox inside the caller's transaction (one statement). */
export async function writeOutbox(tx: Sql, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await tx.query(WRITE_OUTBOX_SQL, outboxArrays(messages));
}

/** Outbox rows as three parallel arrays (ids, subjects, jsonb payloads): `outboxInsertSql`. */
export function outboxArrays(messages: readonly OutboxMessage[]): [string[], string[], string[]] {
  return [
    messages.map(() => newId('obx')),
    messages.map((m) => m.subject),
    messages.map((m) => JSON.stringify(m.payload)),
  ];
}

export interface OutboxRelayOptions {
  readonly batchSize: number;
  readonly pollMs: number;
}

/**
 * Publishes outbox rows to JetStream with `Nats-Msg-Id` = outbox id, then marks them sent.
 * Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays never publish the same row
 * at once; a crash after publishing and before marking re-publishes the same id, which
 * JetStream's duplicate window drops. Wakes on `nudge()` (same process) or every `pollMs`.
 */
export class OutboxRelay {
  private readonly js: JetStreamClient;
  private timer?: NodeJS.Timeout;
  private running = false;
  private draining?: Promise<void>;
  private nudged = false;

  constructor(
    private readonly dataSource: DataSource,
    nc: NatsConnection,
    private readonly options: OutboxRelayOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.js = jetstream(nc);
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.draining;
  }

  /** Asks for a publish pass soon (called after a local commit that wrote to the outbox). */
  nudge(): void {
    if (!this.running) return;
    if (this.draining) {
      this.nudged = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    if (!this.running || this.draining) return;
    this.draining = this.drain().then(() => undefined);
    await this.draining;
    this.draining = undefined;
    if (!this.running) return;
    const again = this.nudged;
    this.nudged = false;
    this.schedule(again ? 0 : this.options.pollMs);
  }

  /** Publishes until the outbox is empty; returns how many messages went out. */
  async drain(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const sent = await this.publishBatch();
        total += sent;
        if (sent < this.options.batchSize) break;
      }
    } catch (error) {
      this.logger.error({ err: error }, 'outbox relay pass failed; will retry');
    }
    return total;
  }

  private async publishBatch(): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const rows: { id: string; subject: string; payload: string }[] = await tx.query(
        CLAIM_OUTBOX_SQL,
        [this.options.batchSize],
      );
      if (rows.length === 0) return 0;
      await Promise.all(
        rows.map((row) => this.js.publish(row.subject, row.payload, { msgID: row.id })),
      );
      await tx.query(MARK_PUBLISHED_SQL, [rows.map((r) => r.id)]);
      this.metrics.outboxPublished.inc(rows.length);
      return rows.length;
    });
  }

  /** Age in seconds of the oldest unpublished message (0 when none): the outbox lag. */
  async measureLag(): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0)::float8 AS lag
       FROM outbox WHERE published_at IS NULL`,
    );
    const lag = Number(row.lag);
    this.metrics.outboxLag.set(lag);
    return lag;
  }
}
