import { MigrationInterface, QueryRunner } from 'typeorm';
import { createBatchChecks } from './1764110000000-ledger-batch-checks';

/**
 * The double-entry invariants of LedgerBatchChecks1764110000000, without reading journal_lines
 * back at commit and without per-row foreign-key triggers.
 *
 * Measured (2 vCPU, 300k lines in the table, 1,000 two-line entries per transaction): the old
 * commit-time check joined the noted entries back to journal_lines, and the planner chose a
 * sequential scan of the whole table (120 ms per batch, growing with the books); the two
 * foreign keys on journal_lines cost one RI query per line each (~40 ms per batch, and every
 * line took a KEY SHARE lock on the hot account row).
 *
 * Now each INSERT statement on journal_lines aggregates ITS OWN rows (the transition table) per
 * entry and currency: line count, debits − credits, and whether a line names an unknown account
 * or one in another currency. INSERTs on journal_entries note the entries. ONE deferred
 * constraint trigger per transaction (on the transaction's mark row) sums those notes at commit:
 * every entry has ≥ 2 lines and balances per currency; every line belongs to an entry written in
 * the same transaction (so a posted entry can never gain lines later: that would change it) and
 * to an existing account in its currency. That replaces both foreign keys: entries and accounts
 * cannot be deleted (append-only triggers), so a reference checked at commit stays valid.
 */
export class LedgerStatementChecks1764400000000 implements MigrationInterface {
  name = 'LedgerStatementChecks1764400000000';

  async up(db: QueryRunner): Promise<void> {
    for (const table of ['journal_entries', 'journal_lines']) {
      await db.query(`DROP TRIGGER ${table}_note_checks ON ${table}`);
    }
    await db.query(`DROP TRIGGER ledger_entries_balanced ON ledger_check_marks`);
    await db.query(`DROP FUNCTION ledger_check_noted_entries()`);
    await db.query(`DROP FUNCTION ledger_note_entries()`);
    await db.query(`DROP TABLE ledger_entry_checks`);
    await db.query(`ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_entry_id_fkey`);
    await db.query(`ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_id_fkey`);

    // Accounts are referenced by lines without a foreign key now: they can never go away.
    await db.query(`
      CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    await db.query(`
      CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);

    await createPerEntryNotes(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER ledger_entries_balanced ON ledger_check_marks`);
    for (const table of ['journal_entries', 'journal_lines']) {
      await db.query(`DROP TRIGGER ${table}_note_checks ON ${table}`);
    }
    await db.query(`DROP TRIGGER ledger_accounts_no_delete ON ledger_accounts`);
    await db.query(`DROP TRIGGER ledger_accounts_no_truncate ON ledger_accounts`);
    await db.query(`DROP FUNCTION ledger_check_noted_entries()`);
    await db.query(`DROP FUNCTION ledger_note_entries()`);
    await db.query(`DROP TABLE ledger_entry_checks`);
    await db.query(`DROP TABLE ledger_check_marks`);
    await db.query(`
      ALTER TABLE journal_lines
        ADD CONSTRAINT journal_lines_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES journal_entries(id),
        ADD CONSTRAINT journal_lines_account_id_fkey FOREIGN KEY (account_id) REFERENCES ledger_accounts(id)`);
    await createBatchChecks(db);
  }
}

/** The per-entry notes and their commit-time check (replaced by 1764600000000). */
export async function createPerEntryNotes(db: QueryRunner): Promise<void> {
  // Rows live only inside the transaction that wrote them (deleted by the check at commit).
  // currency IS NULL: the note of an entry itself; otherwise one statement's lines of it.
  await db.query(`
    CREATE UNLOGGED TABLE ledger_entry_checks (
      txid        bigint NOT NULL,
      entry_id    text NOT NULL,
      currency    char(3),
      lines       integer NOT NULL,
      net         numeric NOT NULL,
      problem     text
    )`);
  await db.query(`CREATE INDEX ledger_entry_checks_txid_idx ON ledger_entry_checks (txid)`);

  await db.query(`
    CREATE FUNCTION ledger_note_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'journal_entries' THEN
        INSERT INTO ledger_entry_checks (txid, entry_id, currency, lines, net)
          SELECT txid_current(), id, NULL, 0, 0 FROM new_rows;
      ELSE
        INSERT INTO ledger_entry_checks (txid, entry_id, currency, lines, net, problem)
          SELECT txid_current(), l.entry_id, l.currency, count(*),
                 sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE -l.amount END),
                 CASE WHEN bool_or(a.id IS NULL) THEN 'account'
                      WHEN bool_or(a.currency <> l.currency) THEN 'currency' END
            FROM new_rows l LEFT JOIN ledger_accounts a ON a.id = l.account_id
           GROUP BY l.entry_id, l.currency;
      END IF;
      INSERT INTO ledger_check_marks (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$`);
  for (const table of ['journal_entries', 'journal_lines']) {
    await db.query(`
      CREATE TRIGGER ${table}_note_checks AFTER INSERT ON ${table}
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_note_entries()`);
  }

  await db.query(`
    CREATE FUNCTION ledger_check_noted_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      t bigint := NEW.txid;
      bad_entry text;
      bad_count int;
      bad_currency text;
      problem text;
    BEGIN
      -- Only this transaction's notes are read: the cost is the batch's, not the books'.
      SELECT v.entry_id, v.problem, v.n, v.currency INTO bad_entry, problem, bad_count, bad_currency
        FROM (
          SELECT g.entry_id, g.currency, sum(g.n) OVER w AS n,
                 CASE WHEN NOT bool_or(g.is_entry) OVER w THEN 'entry'
                      WHEN g.p = 'account' THEN 'account'
                      WHEN sum(g.n) OVER w < 2 THEN 'lines'
                      WHEN g.net <> 0 THEN 'balance'
                      WHEN g.p = 'currency' THEN 'currency' END AS problem
            FROM (
              SELECT c.entry_id, c.currency, sum(c.lines)::int AS n, sum(c.net) AS net,
                     bool_or(c.currency IS NULL) AS is_entry, min(c.problem) AS p
                FROM ledger_entry_checks c
               WHERE c.txid = t
               GROUP BY c.entry_id, c.currency) g
          WINDOW w AS (PARTITION BY g.entry_id)) v
       WHERE v.problem IS NOT NULL
       LIMIT 1;
      IF problem = 'entry' THEN
        IF EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = bad_entry) THEN
          RAISE EXCEPTION 'journal entry % was posted earlier: lines are written only with their entry', bad_entry
            USING ERRCODE = 'check_violation';
        END IF;
        RAISE EXCEPTION 'journal line refers to missing entry %', bad_entry
          USING ERRCODE = 'foreign_key_violation';
      ELSIF problem = 'account' THEN
        RAISE EXCEPTION 'journal entry % has a line on a missing account', bad_entry
          USING ERRCODE = 'foreign_key_violation';
      ELSIF problem = 'lines' THEN
        RAISE EXCEPTION 'journal entry % has % line(s); at least 2 are required', bad_entry, bad_count
          USING ERRCODE = 'check_violation';
      ELSIF problem = 'balance' THEN
        RAISE EXCEPTION 'journal entry % does not balance in %', bad_entry, bad_currency
          USING ERRCODE = 'check_violation';
      ELSIF problem = 'currency' THEN
        RAISE EXCEPTION 'journal entry % has a line in another currency than its account', bad_entry
          USING ERRCODE = 'check_violation';
      END IF;
      DELETE FROM ledger_entry_checks WHERE txid = t;
      DELETE FROM ledger_check_marks WHERE txid = t;
      RETURN NULL;
    END $$`);
  // Checked at COMMIT, once per transaction (one mark row per transaction).
  await db.query(`
    CREATE CONSTRAINT TRIGGER ledger_entries_balanced
      AFTER INSERT ON ledger_check_marks DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION ledger_check_noted_entries()`);
}
