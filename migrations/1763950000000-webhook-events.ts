import { MigrationInterface, QueryRunner } from 'typeorm';

/** Webhooks as the source of truth: every verified processor event, stored once. */
export class WebhookEvents1763950000000 implements MigrationInterface {
  name = 'WebhookEvents1763950000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE webhook_events (
        id                  text PRIMARY KEY,
        processor           text NOT NULL,
        processor_event_id  text NOT NULL,
        type                text NOT NULL,
        payload             jsonb NOT NULL,
        occurred_at         timestamptz NOT NULL,
        received_at         timestamptz NOT NULL DEFAULT now(),
        applied_at          timestamptz,
        status              text NOT NULL DEFAULT 'received'
                            CHECK (status IN ('received','applied','ignored','orphan','failed')),
        attempts            int NOT NULL DEFAULT 0,
        last_error          text,
        UNIQUE (processor, processor_event_id)
      )`);
    await db.query(`CREATE INDEX webhook_events_status_idx ON webhook_events (status, id DESC)`);
    await db.query(
      `CREATE INDEX webhook_events_processor_type_idx ON webhook_events (processor, type, id DESC)`,
    );
    // Refund webhooks find our refund by the processor's refund id.
    await db.query(
      `CREATE INDEX refunds_processor_reference_idx ON refunds (processor_reference) WHERE processor_reference IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS refunds_processor_reference_idx`);
    await db.query(`DROP TABLE IF EXISTS webhook_events`);
  }
}
