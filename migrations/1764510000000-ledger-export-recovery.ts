import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exports survive a ledger that stops while one runs: a running export beats a heartbeat, and
 * any ledger process puts one whose heartbeat went stale back to pending (and runs it), at most
 * `attempts` times (then failed, with the reason). Pending exports a process had queued in
 * memory are picked up the same way.
 */
export class LedgerExportRecovery1764510000000 implements MigrationInterface {
  name = 'LedgerExportRecovery1764510000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE ledger_exports
        ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        ADD COLUMN heartbeat_at timestamptz`);
    await db.query(
      `CREATE INDEX ledger_exports_unfinished_idx ON ledger_exports (created_at)
        WHERE status IN ('pending', 'running')`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS ledger_exports_unfinished_idx`);
    await db.query(`ALTER TABLE ledger_exports DROP COLUMN heartbeat_at, DROP COLUMN attempts`);
  }
}
