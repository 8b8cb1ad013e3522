import { MigrationInterface, QueryRunner } from 'typeorm';
import { createPerEntryNotes } from './1764400000000-ledger-statement-checks';

/**
 * The double-entry checks of LedgerStatementChecks1764400000000 with ONE note per INSERT
 * statement instead of one per entry (and per entry and currency).
 *
 * Measured (2 vCPU AMD EPYC, pgbench, transactions of 1,000 two-line entries, 180k entries in
 * the books): 33.7 ms per transaction with the per-entry notes, 27.2 ms with no checks at all;
 * the notes (≈ 3,000 rows into an indexed table, read back and deleted at commit) were a quarter
 * of the ledger's database time.
 *
 * Now an INSERT into journal_entries notes the array of its entry ids. An INSERT into
 * journal_lines groups ITS OWN rows by entry: it notes the array of the entries it touched, the
 * first unknown-account or wrong-currency line it saw, and, only for an entry that is not
 * complete within the statement (≥ 2 lines, balanced in every currency), that entry's net per
 * currency (a refused entry's line count is read from journal_lines, in the error path only). At commit, one check per transaction (as before) proves:
 * - every line's entry was written in this transaction (so a posted entry never gains lines),
 * - every entry written has lines,
 * - the partial nets sum to zero per entry and currency. That is exact: an entry that is complete
 *   within a statement adds zero to each of its currencies, so an entry's net per currency is the
 *   sum of its partial notes, and an entry balanced in every currency has ≥ 2 lines;
 * - every line names an existing account in its currency.
 * The error codes and messages are those of the earlier checks.
 */
export class LedgerStatementNotes1764600000000 implements MigrationInterface {
  name = 'LedgerStatementNotes1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await dropCheckTriggers(db);
    await db.query(`DROP FUNCTION ledger_check_noted_entries()`);
    await db.query(`DROP FUNCTION ledger_note_entries()`);
    await db.query(`DROP TABLE ledger_entry_checks`);
    await createStatementNotes(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await dropCheckTriggers(db);
    await db.query(`DROP FUNCTION ledger_check_statement_notes()`);
    await db.query(`DROP FUNCTION ledger_note_lines()`);
    await db.query(`DROP FUNCTION ledger_note_entries()`);
    await db.query(`DROP TABLE ledger_entry_checks`);
    await createPerEntryNotes(db);
  }
}

/** The noting triggers on the journal and the commit-time check (same names in both versions). */
async function dropCheckTriggers(db: QueryRunner): Promise<void> {
  for (const table of ['journal_entries', 'journal_lines']) {
    await db.query(`DROP TRIGGER ${table}_note_checks ON ${table}`);
  }
  await db.query(`DROP TRIGGER ledger_entries_balanced ON ledger_check_marks`);
}

async function createStatementNotes(db: QueryRunner): Promise<void> {
  // One row per INSERT statement, deleted by the check at commit (it lives only inside the
  // transaction that wrote it). entries: the ids a journal_entries INSERT wrote. line_entries:
  // the entries a journal_lines INSERT touched; partial_*: its entries not complete within it.
  await db.query(`
    CREATE UNLOGGED TABLE ledger_entry_checks (
      txid              bigint NOT NULL,
      entries           text[],
      line_entries      text[],
      partial_entries   text[],
      partial_currency  text[],
      partial_net       numeric[],
      problem           text,
      problem_entry     text
    )`);
  await db.query(`CREATE INDEX ledger_entry_checks_txid_idx ON ledger_entry_checks (txid)`);

  await db.query(`
    CREATE FUNCTION ledger_note_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      ids text[];
    BEGIN
      SELECT array_agg(id) INTO ids FROM new_rows;
      IF ids IS NULL THEN RETURN NULL; END IF; -- nothing written (e.g. ON CONFLICT DO NOTHING)
      INSERT INTO ledger_entry_checks (txid, entries) VALUES (txid_current(), ids);
      INSERT INTO ledger_check_marks (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$`);
  await db.query(`
    CREATE FUNCTION ledger_note_lines() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
      INSERT INTO ledger_entry_checks (txid, line_entries, partial_entries, partial_currency,
                                       partial_net, problem, problem_entry)
      WITH by_currency AS (
        SELECT l.entry_id, l.currency::text AS currency, count(*)::int AS n,
               sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE -l.amount END) AS net,
               CASE WHEN bool_or(a.id IS NULL) THEN 'account'
                    WHEN bool_or(a.currency <> l.currency) THEN 'currency' END AS problem
          FROM new_rows l LEFT JOIN ledger_accounts a ON a.id = l.account_id
         GROUP BY l.entry_id, l.currency),
      by_entry AS (
        SELECT c.*, sum(c.n) OVER (PARTITION BY c.entry_id) >= 2
                    AND bool_and(c.net = 0) OVER (PARTITION BY c.entry_id) AS complete
          FROM by_currency c)
      SELECT txid_current(),
             array_agg(entry_id),
             coalesce(array_agg(entry_id) FILTER (WHERE NOT complete), '{}'),
             coalesce(array_agg(currency) FILTER (WHERE NOT complete), '{}'),
             coalesce(array_agg(net) FILTER (WHERE NOT complete), '{}'),
             min(problem),
             min(entry_id) FILTER (WHERE problem = (SELECT min(problem) FROM by_currency))
        FROM by_entry;
      INSERT INTO ledger_check_marks (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$`);
  await db.query(`
    CREATE TRIGGER journal_entries_note_checks AFTER INSERT ON journal_entries
      REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_note_entries()`);
  await db.query(`
    CREATE TRIGGER journal_lines_note_checks AFTER INSERT ON journal_lines
      REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_note_lines()`);

  await db.query(`
    CREATE FUNCTION ledger_check_statement_notes() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      t bigint := NEW.txid;
      bad_entry text;
      bad_currency text;
      problem_kind text;
      problem_entry_id text;
      n_lines int;
    BEGIN
      -- Only this transaction's notes are read: the cost is the batch's, not the books'.
      SELECT x INTO bad_entry FROM (
        SELECT unnest(line_entries) FROM ledger_entry_checks WHERE txid = t
        EXCEPT
        SELECT unnest(entries) FROM ledger_entry_checks WHERE txid = t) missing(x)
       LIMIT 1;
      IF bad_entry IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = bad_entry) THEN
          RAISE EXCEPTION 'journal entry % was posted earlier: lines are written only with their entry', bad_entry
            USING ERRCODE = 'check_violation';
        END IF;
        RAISE EXCEPTION 'journal line refers to missing entry %', bad_entry
          USING ERRCODE = 'foreign_key_violation';
      END IF;

      SELECT c.problem, c.problem_entry INTO problem_kind, problem_entry_id
        FROM ledger_entry_checks c
       WHERE c.txid = t AND c.problem IS NOT NULL
       ORDER BY c.problem
       LIMIT 1;
      IF problem_kind = 'account' THEN
        RAISE EXCEPTION 'journal entry % has a line on a missing account', problem_entry_id
          USING ERRCODE = 'foreign_key_violation';
      END IF;

      SELECT p.entry_id, p.currency INTO bad_entry, bad_currency
        FROM ledger_entry_checks c,
             unnest(c.partial_entries, c.partial_currency, c.partial_net) AS p(entry_id, currency, net)
       WHERE c.txid = t
       GROUP BY p.entry_id, p.currency
      HAVING sum(p.net) <> 0
       LIMIT 1;
      IF bad_entry IS NULL THEN
        SELECT x INTO bad_entry FROM (
          SELECT unnest(entries) FROM ledger_entry_checks WHERE txid = t
          EXCEPT
          SELECT unnest(line_entries) FROM ledger_entry_checks WHERE txid = t) lineless(x)
         LIMIT 1;
      END IF;
      IF bad_entry IS NOT NULL THEN
        SELECT count(*) INTO n_lines FROM journal_lines WHERE entry_id = bad_entry;
        IF n_lines < 2 THEN
          RAISE EXCEPTION 'journal entry % has % line(s); at least 2 are required', bad_entry, n_lines
            USING ERRCODE = 'check_violation';
        END IF;
        RAISE EXCEPTION 'journal entry % does not balance in %', bad_entry, bad_currency
          USING ERRCODE = 'check_violation';
      END IF;

      IF problem_kind = 'currency' THEN
        RAISE EXCEPTION 'journal entry % has a line in another currency than its account', problem_entry_id
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
      FOR EACH ROW EXECUTE FUNCTION ledger_check_statement_notes()`);
}
