import { MigrationInterface, QueryRunner } from 'typeorm';

const ITEM_STATUSES = [
  'matched',
  'amount_mismatch',
  'fee_mismatch',
  'currency_mismatch',
  'missing_in_ledger',
  'missing_at_processor',
  'duplicate',
];
const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * Reconciliation (apps/ledger owns these tables; DESIGN.md §7): the processor's side of the
 * story (balance transactions, from webhooks and from a scheduled pull), the per-item result of
 * matching processor ↔ gateway ↔ ledger, the exceptions operators act on, and batch runs.
 */
export class Reconciliation1764300000000 implements MigrationInterface {
  name = 'Reconciliation1764300000000';

  async up(db: QueryRunner): Promise<void> {
    // What the processor says moved on its balance. Amounts are signed minor units of
    // `currency`; `net = amount - fee`. The same transaction arriving again (webhook and pull)
    // is one row: (processor, id) is the processor's own id.
    await db.query(`
      CREATE TABLE processor_balance_transactions (
        processor           text NOT NULL,
        id                  text NOT NULL,
        type                text NOT NULL,
        reporting_category  text NOT NULL,
        source_reference    text,
        payout_reference    text,
        amount              bigint NOT NULL,
        fee                 bigint NOT NULL CHECK (fee >= 0),
        net                 bigint NOT NULL,
        currency            char(3) NOT NULL,
        status              text NOT NULL,
        created_at          timestamptz NOT NULL,
        available_on        timestamptz,
        received_via        text NOT NULL CHECK (received_via IN ('webhook', 'pull')),
        received_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (processor, id),
        CHECK (net = amount - fee)
      )`);
    await db.query(
      `CREATE INDEX processor_bt_source_idx ON processor_balance_transactions (processor, source_reference)`,
    );
    await db.query(
      `CREATE INDEX processor_bt_payout_idx ON processor_balance_transactions (processor, payout_reference)
         WHERE payout_reference IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX processor_bt_created_idx ON processor_balance_transactions (created_at)`,
    );

    // One row per reconciled thing (a charge, a refund, a dispute, a payout), keyed by what
    // identifies it on either side. Rewritten by each reconciliation that touches it.
    await db.query(`
      CREATE TABLE reconciliation_items (
        id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        processor           text NOT NULL,
        item_key            text NOT NULL,
        kind                text NOT NULL CHECK (kind IN ('charge', 'refund', 'dispute', 'payout', 'other')),
        currency            char(3) NOT NULL,
        payment_id          text,
        refund_id           text,
        dispute_id          text,
        payout_id           text,
        source_reference    text,
        balance_transaction_count integer NOT NULL DEFAULT 0,
        processor_amount    bigint,
        processor_fee       bigint,
        processor_currency  char(3),
        gateway_amount      bigint,
        ledger_amount       bigint,
        ledger_fee          bigint,
        status              text NOT NULL CHECK (status IN (${list(ITEM_STATUSES)})),
        amount_at_stake     bigint NOT NULL DEFAULT 0 CHECK (amount_at_stake >= 0),
        occurred_at         timestamptz NOT NULL,
        last_run_id         bigint,
        reconciled_at       timestamptz NOT NULL DEFAULT now(),
        UNIQUE (processor, item_key)
      )`);
    await db.query(
      `CREATE INDEX reconciliation_items_period_idx ON reconciliation_items (occurred_at, processor, currency)`,
    );
    await db.query(
      `CREATE INDEX reconciliation_items_payment_idx ON reconciliation_items (payment_id) WHERE payment_id IS NOT NULL`,
    );

    // What an operator must look at: at most one open exception per item.
    await db.query(`
      CREATE TABLE reconciliation_exceptions (
        id                  text PRIMARY KEY,
        item_id             bigint NOT NULL REFERENCES reconciliation_items(id),
        type                text NOT NULL CHECK (type IN (${list(ITEM_STATUSES.filter((s) => s !== 'matched'))})),
        status              text NOT NULL CHECK (status IN ('open', 'resolved', 'ignored')),
        processor           text NOT NULL,
        currency            char(3) NOT NULL,
        amount_at_stake     bigint NOT NULL CHECK (amount_at_stake >= 0),
        opened_at           timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        resolved_at         timestamptz,
        resolved_by         text,
        resolution_reason   text,
        correction_source_id text,
        CHECK ((status = 'open') = (resolved_at IS NULL))
      )`);
    await db.query(
      `CREATE UNIQUE INDEX reconciliation_exceptions_one_open ON reconciliation_exceptions (item_id)
         WHERE status = 'open'`,
    );
    await db.query(
      `CREATE INDEX reconciliation_exceptions_queue_idx ON reconciliation_exceptions (status, opened_at, id)`,
    );

    // Who did what to an exception, and why (append-only by convention of its one writer).
    await db.query(`
      CREATE TABLE reconciliation_exception_audit (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        exception_id  text NOT NULL REFERENCES reconciliation_exceptions(id),
        action        text NOT NULL,
        actor         text NOT NULL,
        reason        text NOT NULL,
        details       jsonb,
        at            timestamptz NOT NULL DEFAULT now()
      )`);

    // Batch runs over a period: resumable (next_from), and dry runs write no items.
    await db.query(`
      CREATE TABLE reconciliation_runs (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        processor     text,
        currency      char(3),
        period_from   timestamptz NOT NULL,
        period_to     timestamptz NOT NULL,
        dry_run       boolean NOT NULL,
        status        text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        next_from     timestamptz,
        counts        jsonb NOT NULL DEFAULT '{}'::jsonb,
        error         text,
        started_at    timestamptz NOT NULL DEFAULT now(),
        finished_at   timestamptz,
        CHECK (period_from < period_to)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'reconciliation_runs',
      'reconciliation_exception_audit',
      'reconciliation_exceptions',
      'reconciliation_items',
      'processor_balance_transactions',
    ]) {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
