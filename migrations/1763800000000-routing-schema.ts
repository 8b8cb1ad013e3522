import { MigrationInterface, QueryRunner } from 'typeorm';

/** Routing: gateway payment methods (tokens at several processors), route decisions, operator controls, audit. */
export class RoutingSchema1763800000000 implements MigrationInterface {
  name = 'RoutingSchema1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE payment_methods (
        id           text PRIMARY KEY,
        client_id    text NOT NULL REFERENCES api_clients(id),
        customer_id  text,
        label        text,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE payment_method_tokens (
        payment_method_id  text NOT NULL REFERENCES payment_methods(id),
        processor          text NOT NULL,
        token              text NOT NULL,
        position           int NOT NULL,
        PRIMARY KEY (payment_method_id, processor)
      )`);
    await db.query(`ALTER TABLE payments ADD COLUMN route jsonb`);
    await db.query(`ALTER TABLE payments ADD COLUMN country char(2)`);
    // Set when a processor outcome stayed unknown through the whole status-sync schedule.
    await db.query(`ALTER TABLE payments ADD COLUMN needs_operator_at timestamptz`);
    await db.query(
      `CREATE INDEX payments_needs_operator_idx ON payments (needs_operator_at) WHERE needs_operator_at IS NOT NULL`,
    );
    await db.query(`
      CREATE TABLE processor_controls (
        processor   text PRIMARY KEY,
        paused      boolean NOT NULL,
        reason      text,
        changed_by  text NOT NULL,
        changed_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE audit_log (
        id          text PRIMARY KEY,
        actor       text NOT NULL,
        action      text NOT NULL,
        subject     text NOT NULL,
        before      jsonb,
        after       jsonb,
        reason      text,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX audit_log_subject_idx ON audit_log (subject, created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_log`);
    await db.query(`DROP TABLE processor_controls`);
    await db.query(`ALTER TABLE payments DROP COLUMN needs_operator_at`);
    await db.query(`ALTER TABLE payments DROP COLUMN country`);
    await db.query(`ALTER TABLE payments DROP COLUMN route`);
    await db.query(`DROP TABLE payment_method_tokens`);
    await db.query(`DROP TABLE payment_methods`);
  }
}
