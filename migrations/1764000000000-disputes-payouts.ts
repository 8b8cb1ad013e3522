import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks as the source of truth, part 2: disputes and payouts as their own objects, and each
 * payment's processor fee (from its charge's balance transaction) once the processor reports it.
 */
export class DisputesPayouts1764000000000 implements MigrationInterface {
  name = 'DisputesPayouts1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE disputes (
        id                   text PRIMARY KEY,
        processor            text NOT NULL,
        processor_reference  text NOT NULL,
        payment_id           text NOT NULL REFERENCES payments(id),
        amount               bigint NOT NULL CHECK (amount >= 0),
        currency             char(3) NOT NULL,
        status               text NOT NULL CHECK (status IN ('WARNING_NEEDS_RESPONSE',
                               'WARNING_UNDER_REVIEW', 'WARNING_CLOSED', 'NEEDS_RESPONSE',
                               'UNDER_REVIEW', 'WON', 'LOST', 'PREVENTED')),
        reason               text,
        evidence_due_by      timestamptz,
        last_event_at        timestamptz NOT NULL,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        UNIQUE (processor, processor_reference)
      )`);
    await db.query(`CREATE INDEX disputes_payment_id_idx ON disputes (payment_id, id)`);
    await db.query(`CREATE INDEX disputes_status_idx ON disputes (status, id DESC)`);
    await db.query(`
      CREATE TABLE payouts (
        id                   text PRIMARY KEY,
        processor            text NOT NULL,
        processor_reference  text NOT NULL,
        amount               bigint NOT NULL CHECK (amount >= 0),
        currency             char(3) NOT NULL,
        status               text NOT NULL CHECK (status IN ('PENDING', 'PAID', 'FAILED')),
        arrival_date         timestamptz,
        failure_code         text,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        UNIQUE (processor, processor_reference)
      )`);
    // One row per payment: the charge that moved its money and, once known, its fee and net
    // (in the balance transaction's currency, which may differ from the payment's).
    await db.query(`
      CREATE TABLE payment_fees (
        payment_id                     text PRIMARY KEY REFERENCES payments(id),
        processor                      text NOT NULL,
        charge_reference               text,
        balance_transaction_reference  text,
        fee                            bigint CHECK (fee >= 0),
        net                            bigint,
        currency                       char(3),
        fee_recorded_at                timestamptz,
        created_at                     timestamptz NOT NULL DEFAULT now(),
        updated_at                     timestamptz NOT NULL DEFAULT now(),
        CHECK ((fee IS NULL) = (net IS NULL))
      )`);
    // Disputes name the charge; older API versions name no PaymentIntent.
    await db.query(
      `CREATE INDEX payment_fees_charge_idx ON payment_fees (processor, charge_reference)
       WHERE charge_reference IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS payment_fees`);
    await db.query(`DROP TABLE IF EXISTS payouts`);
    await db.query(`DROP TABLE IF EXISTS disputes`);
  }
}
