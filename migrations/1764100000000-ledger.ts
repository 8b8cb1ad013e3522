import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger's own tables (apps/ledger writes them; nothing else does). The database, not only
 * the code, enforces double entry: a deferred constraint trigger checks at commit that every
 * entry has at least two lines and that its debits equal its credits per currency, and entries
 * and lines are append-only (corrections are reversing entries).
 */
export class Ledger1764100000000 implements MigrationInterface {
  name = 'Ledger1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE ledger_accounts (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        code         text NOT NULL UNIQUE,
        name         text NOT NULL,
        type         text NOT NULL CHECK (type IN ('asset', 'liability', 'revenue', 'expense', 'equity')),
        normal_side  text NOT NULL CHECK (normal_side IN ('debit', 'credit')),
        currency     char(3) NOT NULL,
        processor    text,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE journal_entries (
        id               text PRIMARY KEY,
        source_event_id  text NOT NULL UNIQUE,
        kind             text NOT NULL,
        payment_id       text,
        status           text NOT NULL CHECK (status IN ('posted', 'pending')),
        occurred_at      timestamptz NOT NULL,
        posted_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(
      `CREATE INDEX journal_entries_payment_idx ON journal_entries (payment_id, id) WHERE payment_id IS NOT NULL`,
    );
    // occurred_at and pending are copied from the entry so "balance as of" reads one index.
    await db.query(`
      CREATE TABLE journal_lines (
        entry_id     text NOT NULL REFERENCES journal_entries(id),
        line_no      smallint NOT NULL,
        account_id   bigint NOT NULL REFERENCES ledger_accounts(id),
        direction    text NOT NULL CHECK (direction IN ('debit', 'credit')),
        amount       bigint NOT NULL CHECK (amount > 0),
        currency     char(3) NOT NULL,
        pending      boolean NOT NULL,
        occurred_at  timestamptz NOT NULL,
        PRIMARY KEY (entry_id, line_no)
      )`);
    await db.query(
      `CREATE INDEX journal_lines_account_idx ON journal_lines (account_id, occurred_at)`,
    );
    await db.query(`
      CREATE TABLE account_balances (
        account_id       bigint PRIMARY KEY REFERENCES ledger_accounts(id),
        posted_debits    bigint NOT NULL DEFAULT 0 CHECK (posted_debits >= 0),
        posted_credits   bigint NOT NULL DEFAULT 0 CHECK (posted_credits >= 0),
        pending_debits   bigint NOT NULL DEFAULT 0 CHECK (pending_debits >= 0),
        pending_credits  bigint NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
        version          bigint NOT NULL DEFAULT 0,
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    // Where each authorization hold stands, so capture/cancel release it exactly once whatever
    // order the events arrive in ('released' first = a release that came before its hold).
    await db.query(`
      CREATE TABLE ledger_authorization_holds (
        payment_id   text PRIMARY KEY,
        state        text NOT NULL CHECK (state IN ('held', 'released')),
        amount       bigint NOT NULL CHECK (amount >= 0),
        currency     char(3) NOT NULL,
        processor    text NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);

    await db.query(`
      CREATE FUNCTION ledger_check_entry(p_entry_id text) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        n_lines int;
        bad_currency text;
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM journal_entries WHERE id = p_entry_id) THEN
          RAISE EXCEPTION 'journal line refers to missing entry %', p_entry_id
            USING ERRCODE = 'check_violation';
        END IF;
        SELECT count(*) INTO n_lines FROM journal_lines WHERE entry_id = p_entry_id;
        IF n_lines < 2 THEN
          RAISE EXCEPTION 'journal entry % has % line(s); at least 2 are required', p_entry_id, n_lines
            USING ERRCODE = 'check_violation';
        END IF;
        SELECT l.currency INTO bad_currency
          FROM journal_lines l
         WHERE l.entry_id = p_entry_id
         GROUP BY l.currency
        HAVING sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE 0 END)
            <> sum(CASE WHEN l.direction = 'credit' THEN l.amount ELSE 0 END)
         LIMIT 1;
        IF bad_currency IS NOT NULL THEN
          RAISE EXCEPTION 'journal entry % does not balance in %', p_entry_id, bad_currency
            USING ERRCODE = 'check_violation';
        END IF;
        IF EXISTS (SELECT 1 FROM journal_lines l JOIN ledger_accounts a ON a.id = l.account_id
                    WHERE l.entry_id = p_entry_id AND a.currency <> l.currency) THEN
          RAISE EXCEPTION 'journal entry % has a line in another currency than its account', p_entry_id
            USING ERRCODE = 'check_violation';
        END IF;
      END $$`);
    await db.query(`
      CREATE FUNCTION ledger_check_line_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM ledger_check_entry(NEW.entry_id);
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION ledger_check_entry_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM ledger_check_entry(NEW.id);
        RETURN NULL;
      END $$`);
    // Checked at COMMIT: the lines of one entry are inserted by several rows (or statements).
    await db.query(`
      CREATE CONSTRAINT TRIGGER journal_lines_balanced
        AFTER INSERT ON journal_lines DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_check_line_trigger()`);
    await db.query(`
      CREATE CONSTRAINT TRIGGER journal_entries_have_lines
        AFTER INSERT ON journal_entries DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_trigger()`);

    await db.query(`
      CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused (post a reversing entry instead)', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['journal_entries', 'journal_lines']) {
      await db.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
          FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
      await db.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS ledger_authorization_holds`);
    await db.query(`DROP TABLE IF EXISTS account_balances`);
    await db.query(`DROP TABLE IF EXISTS journal_lines`);
    await db.query(`DROP TABLE IF EXISTS journal_entries`);
    await db.query(`DROP TABLE IF EXISTS ledger_accounts`);
    await db.query(`DROP FUNCTION IF EXISTS ledger_refuse_change()`);
    await db.query(`DROP FUNCTION IF EXISTS ledger_check_entry_trigger()`);
    await db.query(`DROP FUNCTION IF EXISTS ledger_check_line_trigger()`);
    await db.query(`DROP FUNCTION IF EXISTS ledger_check_entry(text)`);
  }
}
