import { MigrationInterface, QueryRunner } from 'typeorm';

/** Journal exports for ERPs (apps/ledger writes them): what was asked, how it went, its totals. */
export class LedgerExports1764200000000 implements MigrationInterface {
  name = 'LedgerExports1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE ledger_exports (
        id             text PRIMARY KEY,
        format         text NOT NULL CHECK (format IN ('netsuite', 'quickbooks', 'csv', 'jsonl')),
        period_from    timestamptz NOT NULL,
        period_to      timestamptz NOT NULL,
        currency       char(3),
        status         text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
        entry_count    integer,
        line_count     integer,
        total_debits   bigint,
        total_credits  bigint,
        path           text,
        error          text,
        created_at     timestamptz NOT NULL DEFAULT now(),
        completed_at   timestamptz,
        CHECK (period_from < period_to)
      )`);
    await db.query(`CREATE INDEX ledger_exports_created_idx ON ledger_exports (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS ledger_exports`);
  }
}
