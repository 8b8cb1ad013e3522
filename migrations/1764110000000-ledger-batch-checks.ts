import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The same double-entry invariants as Ledger1764100000000, checked ONCE per transaction instead
 * of once per inserted row. The row-level deferred constraint triggers ran four queries per
 * entry and per line at commit (twelve per two-line entry): about 4,000 entries/s at most, ten
 * times below the cost of the inserts themselves (bench/ledger-ingest.ts).
 *
 * Now: statement-level AFTER INSERT triggers on journal_entries and journal_lines note the ids
 * of the entries the statement touched (transition tables) in `ledger_entry_checks`, and mark
 * the transaction in `ledger_check_marks`; a DEFERRABLE INITIALLY DEFERRED constraint trigger
 * on that mark (one row per transaction, so it fires once) checks all noted entries with
 * set-based queries at commit, with the same messages, then forgets them.
 */
export class LedgerBatchChecks1764110000000 implements MigrationInterface {
  name = 'LedgerBatchChecks1764110000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER journal_lines_balanced ON journal_lines`);
    await db.query(`DROP TRIGGER journal_entries_have_lines ON journal_entries`);
    await createBatchChecks(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS ledger_check_marks`);
    await db.query(`DROP TABLE IF EXISTS ledger_entry_checks`);
    for (const table of ['journal_entries', 'journal_lines']) {
      await db.query(`DROP TRIGGER IF EXISTS ${table}_note_checks ON ${table}`);
    }
    await db.query(`DROP FUNCTION IF EXISTS ledger_check_noted_entries()`);
    await db.query(`DROP FUNCTION IF EXISTS ledger_note_entries()`);
    await db.query(`
      CREATE CONSTRAINT TRIGGER journal_lines_balanced
        AFTER INSERT ON journal_lines DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_check_line_trigger()`);
    await db.query(`
      CREATE CONSTRAINT TRIGGER journal_entries_have_lines
        AFTER INSERT ON journal_entries DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_trigger()`);
  }
}

/** The tables, functions and triggers of this design (also restored by a later down()). */
export async function createBatchChecks(db: QueryRunner): Promise<void> {
  // Rows live only inside the transaction that wrote them (deleted by the check at commit).
  await db.query(`
      CREATE UNLOGGED TABLE ledger_entry_checks (
        txid      bigint NOT NULL,
        entry_id  text NOT NULL
      )`);
  await db.query(`CREATE INDEX ledger_entry_checks_txid_idx ON ledger_entry_checks (txid)`);
  await db.query(`CREATE UNLOGGED TABLE ledger_check_marks (txid bigint PRIMARY KEY)`);

  await db.query(`
      CREATE FUNCTION ledger_note_entries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_TABLE_NAME = 'journal_entries' THEN
          INSERT INTO ledger_entry_checks (txid, entry_id) SELECT txid_current(), id FROM new_rows;
        ELSE
          INSERT INTO ledger_entry_checks (txid, entry_id)
            SELECT DISTINCT txid_current(), entry_id FROM new_rows;
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
        SELECT c.entry_id INTO bad_entry FROM ledger_entry_checks c
          WHERE c.txid = t AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = c.entry_id)
          LIMIT 1;
        IF bad_entry IS NOT NULL THEN
          RAISE EXCEPTION 'journal line refers to missing entry %', bad_entry
            USING ERRCODE = 'check_violation';
        END IF;
        -- One pass over the noted entries' lines: per entry and currency, the line count, the
        -- signed sum and whether a line's currency differs from its account's.
        SELECT v.entry_id, v.problem, v.n, v.currency INTO bad_entry, problem, bad_count, bad_currency
          FROM (
            SELECT g.entry_id, g.currency, sum(g.n) OVER (PARTITION BY g.entry_id)::int AS n,
                   CASE WHEN sum(g.n) OVER (PARTITION BY g.entry_id) < 2 THEN 'lines'
                        WHEN g.s <> 0 THEN 'balance'
                        WHEN g.bad THEN 'currency' END AS problem
              FROM (
                SELECT c.entry_id, l.currency, count(l.entry_id) AS n,
                       coalesce(sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE -l.amount END), 0) AS s,
                       coalesce(bool_or(a.currency <> l.currency), false) AS bad
                  FROM (SELECT DISTINCT entry_id FROM ledger_entry_checks WHERE txid = t) c
                  LEFT JOIN journal_lines l ON l.entry_id = c.entry_id
                  LEFT JOIN ledger_accounts a ON a.id = l.account_id
                 GROUP BY c.entry_id, l.currency) g) v
         WHERE v.problem IS NOT NULL
         ORDER BY v.problem DESC
         LIMIT 1;
        IF problem = 'lines' THEN
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
