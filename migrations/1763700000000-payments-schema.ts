import { MigrationInterface, QueryRunner } from 'typeorm';

/** Payments side: API clients, payments, attempts, refunds, idempotency records, outbox. */
export class PaymentsSchema1763700000000 implements MigrationInterface {
  name = 'PaymentsSchema1763700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE api_clients (
        id          text PRIMARY KEY,
        name        text NOT NULL UNIQUE,
        key_hash    text NOT NULL UNIQUE,
        scopes      text[] NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
      )`);
    await db.query(`
      CREATE TABLE payments (
        id                  text PRIMARY KEY,
        client_id           text NOT NULL REFERENCES api_clients(id),
        status              text NOT NULL CHECK (status IN ('PENDING','PROCESSING','REQUIRES_ACTION','AUTHORIZED','SUCCEEDED','FAILED','CANCELED')),
        amount              bigint NOT NULL CHECK (amount > 0),
        currency            char(3) NOT NULL,
        amount_authorized   bigint NOT NULL DEFAULT 0 CHECK (amount_authorized >= 0 AND amount_authorized <= amount),
        amount_captured     bigint NOT NULL DEFAULT 0 CHECK (amount_captured >= 0 AND amount_captured <= amount),
        amount_refunded     bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount_captured),
        capture_method      text NOT NULL CHECK (capture_method IN ('AUTOMATIC','MANUAL')),
        priority            text NOT NULL CHECK (priority IN ('CHECKOUT','BACKGROUND')),
        payment_method      text NOT NULL,
        processor_pin       text,
        customer_id         text,
        description         text,
        metadata            jsonb,
        processor           text,
        processor_reference text,
        failure             jsonb,
        next_action         jsonb,
        pending_operation   text CHECK (pending_operation IN ('capture','cancel')),
        pending_capture_amount bigint CHECK (pending_capture_amount > 0),
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX payments_client_id_idx ON payments (client_id, id DESC)`);
    await db.query(`CREATE INDEX payments_status_idx ON payments (status, id DESC)`);
    // The janitor looks for payments stuck mid-operation: a small, hot subset.
    await db.query(
      `CREATE INDEX payments_in_flight_idx ON payments (updated_at) WHERE status = 'PROCESSING' OR pending_operation IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX payments_processor_reference_idx ON payments (processor, processor_reference)`,
    );
    await db.query(`
      CREATE TABLE payment_attempts (
        id               text PRIMARY KEY,
        payment_id       text NOT NULL REFERENCES payments(id),
        refund_id        text,
        processor        text NOT NULL,
        operation        text NOT NULL CHECK (operation IN ('authorize','capture','cancel','refund','retrieve')),
        attempt_number   int NOT NULL CHECK (attempt_number > 0),
        idempotency_key  text NOT NULL,
        outcome          text NOT NULL CHECK (outcome IN ('pending','succeeded','failed','unknown')),
        latency_ms       int,
        error_kind       text,
        error_message    text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        completed_at     timestamptz,
        UNIQUE NULLS NOT DISTINCT (payment_id, operation, refund_id, attempt_number)
      )`);
    await db.query(
      `CREATE INDEX payment_attempts_payment_id_idx ON payment_attempts (payment_id, created_at)`,
    );
    await db.query(
      `CREATE INDEX payment_attempts_unknown_idx ON payment_attempts (created_at) WHERE outcome = 'unknown'`,
    );
    await db.query(`
      CREATE TABLE refunds (
        id                  text PRIMARY KEY,
        payment_id          text NOT NULL REFERENCES payments(id),
        status              text NOT NULL CHECK (status IN ('PENDING','SUCCEEDED','FAILED')),
        amount              bigint NOT NULL CHECK (amount > 0),
        currency            char(3) NOT NULL,
        reason              text,
        processor_reference text,
        failure             jsonb,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX refunds_payment_id_idx ON refunds (payment_id, created_at)`);
    await db.query(
      `CREATE INDEX refunds_pending_idx ON refunds (updated_at) WHERE status = 'PENDING'`,
    );
    await db.query(`
      CREATE TABLE idempotency_keys (
        client_id     text NOT NULL,
        key           text NOT NULL,
        operation     text NOT NULL,
        request_hash  text NOT NULL,
        resource_id   text NOT NULL,
        response      jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        expires_at    timestamptz NOT NULL,
        PRIMARY KEY (client_id, key)
      )`);
    await db.query(`CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at)`);
    await db.query(`
      CREATE TABLE outbox (
        id            text PRIMARY KEY,
        subject       text NOT NULL,
        payload       jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        published_at  timestamptz
      )`);
    await db.query(`CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL`);
    // The janitor deletes published rows after an hour; without this it scans the table.
    await db.query(
      `CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL`,
    );
    await db.query(`
      CREATE TABLE simulator_payments (
        reference        text PRIMARY KEY,
        merchant_ref     text NOT NULL,
        token            text NOT NULL,
        status           text NOT NULL,
        amount           bigint NOT NULL,
        currency         char(3) NOT NULL,
        amount_captured  bigint NOT NULL DEFAULT 0,
        amount_refunded  bigint NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(
      `CREATE INDEX simulator_payments_merchant_ref_idx ON simulator_payments (merchant_ref)`,
    );
    await db.query(`
      CREATE TABLE simulator_requests (
        idempotency_key  text PRIMARY KEY,
        operation        text NOT NULL,
        request_hash     text NOT NULL,
        response         jsonb NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'simulator_requests',
      'simulator_payments',
      'outbox',
      'idempotency_keys',
      'refunds',
      'payment_attempts',
      'payments',
      'api_clients',
    ]) {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
