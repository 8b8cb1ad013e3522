import { DataSource, EntityManager } from 'typeorm';
import { newId } from '../../domain/src';
import { AccountSpec } from './chart-of-accounts';
import {
  Hold,
  LedgerEvent,
  PlannedEntry,
  PostingRejected,
  financePostingFor,
  isPaymentEvent,
  isPayoutEvent,
  postingFor,
} from './posting-rules';

/** One advisory lock: batches apply one at a time, whatever the number of ledger copies. */
const LEDGER_WRITER_LOCK = 73_011_985;

export interface BatchResult {
  /** Entries newly booked (duplicates of already booked events are not counted). */
  readonly entriesBooked: number;
  /** Events the posting rules refused, by event id, with the reason: dead-letter them. */
  readonly rejected: ReadonlyMap<string, string>;
}

/**
 * Books payment events: in ONE transaction per batch, one statement inserts the entries
 * (idempotent by source event id) and their lines and moves each account's balance once by the
 * sum of the batch's lines on it — the hot receivable row is updated once per batch, not per
 * event.
 */
export class LedgerBooks {
  /** Account ids by code, learnt from committed batches (accounts are never deleted). */
  private readonly accountIds = new Map<string, number>();

  constructor(private readonly dataSource: DataSource) {}

  async applyBatch(events: readonly LedgerEvent[]): Promise<BatchResult> {
    const outcome = await this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LEDGER_WRITER_LOCK]);
      const holds = await this.lockHolds(tx, events);
      const paidPayouts = await this.paidPayouts(tx, events);
      const { planned, rejected, changedHolds } = plan(events, holds, paidPayouts);
      if (planned.length === 0) {
        await this.saveHolds(tx, changedHolds);
        return { entriesBooked: 0, rejected, accounts: undefined };
      }
      const accounts = await this.ensureAccounts(tx, planned);
      const booked = await this.bookEntries(tx, planned, accounts);
      await this.saveHolds(tx, changedHolds);
      return { entriesBooked: booked, rejected, accounts };
    });
    if (outcome.accounts) this.remember(outcome.accounts);
    return { entriesBooked: outcome.entriesBooked, rejected: outcome.rejected };
  }

  /**
   * Books entries planned outside the event stream (a reconciliation correction) inside the
   * CALLER's transaction, through the same writer lock, accounts, inserts and balance deltas as
   * a batch. Idempotent by source id: returns how many were newly booked (0 on a retry).
   */
  async bookPlanned(tx: EntityManager, planned: readonly PlannedEntry[]): Promise<number> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LEDGER_WRITER_LOCK]);
    if (planned.length === 0) return 0;
    // Not remembered: the caller's transaction may still roll back.
    const accounts = await this.ensureAccounts(tx, planned);
    return this.bookEntries(tx, planned, accounts);
  }

  /** Payouts of the batch's `payouts.evt.failed` whose `paid` is booked (a failure reverses them). */
  private async paidPayouts(
    tx: EntityManager,
    events: readonly LedgerEvent[],
  ): Promise<Set<string>> {
    const ids = events
      .filter(isPayoutEvent)
      .filter((e) => e.type === 'failed')
      .map((e) => `${e.payout.id}:paid`);
    if (ids.length === 0) return new Set();
    const rows: Array<{ source_event_id: string }> = await tx.query(
      `SELECT source_event_id FROM journal_entries WHERE source_event_id = ANY($1)`,
      [ids],
    );
    return new Set(rows.map((r) => r.source_event_id.slice(0, -':paid'.length)));
  }

  private async lockHolds(
    tx: EntityManager,
    events: readonly LedgerEvent[],
  ): Promise<Map<string, Hold>> {
    const ids = [
      ...new Set(
        events
          .filter(isPaymentEvent)
          .filter((e) => ['authorized', 'captured', 'canceled'].includes(e.type))
          .map((e) => e.payment.id),
      ),
    ];
    if (ids.length === 0) return new Map();
    const rows: Array<Record<string, unknown>> = await tx.query(
      `SELECT payment_id, state, amount, currency, processor FROM ledger_authorization_holds
        WHERE payment_id = ANY($1) FOR UPDATE`,
      [ids],
    );
    return new Map(
      rows.map((r) => [
        r.payment_id as string,
        {
          state: r.state as Hold['state'],
          amount: Number(r.amount),
          currency: (r.currency as string).trim(),
          processor: r.processor as string,
        },
      ]),
    );
  }

  private async saveHolds(tx: EntityManager, holds: Map<string, Hold>): Promise<void> {
    if (holds.size === 0) return;
    const ids = [...holds.keys()];
    const values = [...holds.values()];
    await tx.query(
      `INSERT INTO ledger_authorization_holds (payment_id, state, amount, currency, processor)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])
       ON CONFLICT (payment_id) DO UPDATE
         SET state = EXCLUDED.state, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
             processor = EXCLUDED.processor, updated_at = now()`,
      [
        ids,
        values.map((h) => h.state),
        values.map((h) => h.amount),
        values.map((h) => h.currency),
        values.map((h) => h.processor),
      ],
    );
  }

  /** The ids of the accounts the batch needs by code, creating those used for the first time. */
  private async ensureAccounts(
    tx: EntityManager,
    planned: readonly PlannedEntry[],
  ): Promise<Map<string, number>> {
    const specs = new Map<string, AccountSpec>();
    for (const e of planned) for (const l of e.lines) specs.set(l.account.code, l.account);
    const ids = new Map<string, number>();
    const missing: AccountSpec[] = [];
    for (const [code, spec] of specs) {
      const known = this.accountIds.get(code);
      if (known === undefined) missing.push(spec);
      else ids.set(code, known);
    }
    if (missing.length === 0) return ids;
    const list = missing.sort((a, b) => a.code.localeCompare(b.code));
    await tx.query(
      `WITH created AS (
         INSERT INTO ledger_accounts (code, name, type, normal_side, currency, processor)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT (code) DO NOTHING
         RETURNING id)
       INSERT INTO account_balances (account_id) SELECT id FROM created`,
      [
        list.map((a) => a.code),
        list.map((a) => a.name),
        list.map((a) => a.type),
        list.map((a) => a.normalSide),
        list.map((a) => a.currency),
        list.map((a) => a.processor),
      ],
    );
    const rows: Array<{ id: number; code: string }> = await tx.query(
      `SELECT id, code FROM ledger_accounts WHERE code = ANY($1)`,
      [list.map((a) => a.code)],
    );
    for (const r of rows) ids.set(r.code, Number(r.id));
    return ids;
  }

  /** Remembers account ids once the transaction that may have created them has committed. */
  private remember(accounts: ReadonlyMap<string, number>): void {
    for (const [code, id] of accounts) this.accountIds.set(code, id);
  }

  /**
   * ONE statement: inserts the entries (a duplicate source event id is skipped), the lines of
   * those actually inserted, and moves each account's balance once by the sum of those lines.
   * Returns how many entries were inserted.
   */
  private async bookEntries(
    tx: EntityManager,
    planned: readonly PlannedEntry[],
    accounts: ReadonlyMap<string, number>,
  ): Promise<number> {
    if (planned.length === 0) return 0;
    const entries = planned.map((e, n) => ({
      n,
      id: newId('je'),
      source_event_id: e.sourceEventId,
      kind: e.kind,
      payment_id: e.paymentId,
      status: e.status,
      occurred_at: e.occurredAt,
    }));
    const lines = planned.flatMap((e, n) =>
      e.lines.map((l, i) => ({
        e: n,
        no: i + 1,
        a: accounts.get(l.account.code)!,
        d: l.direction,
        m: l.amount,
        c: l.account.currency,
      })),
    );
    // Two JSON parameters: serialised natively, parsed by Postgres in C (arrays of text
    // parameters cost ~10 µs per entry to escape in the driver); lines name their entry by
    // position, so no entry id, date or status is repeated per line.
    const [row]: Array<{ booked: number }> = await tx.query(BOOK_ENTRIES_SQL, [
      JSON.stringify(entries),
      JSON.stringify(lines),
    ]);
    return Number(row.booked);
  }
}

/** The balance of each account moves once per batch, by the sum of the batch's lines on it. */
const BOOK_ENTRIES_SQL = `
  WITH planned AS (
    SELECT * FROM json_to_recordset($1::json) AS e(n int, id text, source_event_id text,
           kind text, payment_id text, status text, occurred_at timestamptz)
  ), booked AS (
    INSERT INTO journal_entries (id, source_event_id, kind, payment_id, status, occurred_at)
    SELECT id, source_event_id, kind, payment_id, status, occurred_at FROM planned
    ON CONFLICT (source_event_id) DO NOTHING
    RETURNING id, status, occurred_at
  ), lines AS (
    INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency,
                               pending, occurred_at)
    SELECT b.id, l.no, l.a, l.d, l.m, l.c, b.status = 'pending', b.occurred_at
      FROM json_to_recordset($2::json) AS l(e int, no smallint, a bigint, d text, m bigint, c text)
      JOIN planned p ON p.n = l.e
      JOIN booked b ON b.id = p.id
    RETURNING account_id, direction, amount, pending
  ), deltas AS (
    SELECT account_id,
           coalesce(sum(amount) FILTER (WHERE NOT pending AND direction = 'debit'), 0) AS pd,
           coalesce(sum(amount) FILTER (WHERE NOT pending AND direction = 'credit'), 0) AS pc,
           coalesce(sum(amount) FILTER (WHERE pending AND direction = 'debit'), 0) AS hd,
           coalesce(sum(amount) FILTER (WHERE pending AND direction = 'credit'), 0) AS hc
      FROM lines GROUP BY account_id
  ), balances AS (
    UPDATE account_balances b
       SET posted_debits = b.posted_debits + d.pd, posted_credits = b.posted_credits + d.pc,
           pending_debits = b.pending_debits + d.hd, pending_credits = b.pending_credits + d.hc,
           version = b.version + 1, updated_at = now()
      FROM deltas d
     WHERE b.account_id = d.account_id
  )
  SELECT count(*)::int AS booked FROM booked`;

/**
 * Runs the posting rules over the batch in order, threading each payment's hold state through
 * (so authorize + capture in one batch pair up), and collects the refusals.
 */
export function plan(
  events: readonly LedgerEvent[],
  holds: ReadonlyMap<string, Hold>,
  paidPayouts: ReadonlySet<string> = new Set(),
): { planned: PlannedEntry[]; rejected: Map<string, string>; changedHolds: Map<string, Hold> } {
  const planned: PlannedEntry[] = [];
  const rejected = new Map<string, string>();
  const current = new Map(holds);
  const changedHolds = new Map<string, Hold>();
  const paid = new Set(paidPayouts);
  const seen = new Set<string>();
  const sources = new Set<string>();
  for (const event of events) {
    try {
      if (!isPaymentEvent(event)) {
        // Finance entries have deterministic source ids: plan each once per batch. A repeated
        // event is planned again, not skipped: a `payouts.evt.failed` that came before its
        // `paid` booked nothing, and its copy after the `paid` must book the reversal.
        const posting = financePostingFor(event, paid);
        for (const e of posting.entries) {
          if (sources.has(e.sourceEventId)) continue;
          sources.add(e.sourceEventId);
          planned.push(e);
          if (e.kind === 'payout' && isPayoutEvent(event)) paid.add(event.payout.id);
        }
        continue;
      }
      if (seen.has(event.eventId)) continue;
      seen.add(event.eventId);
      const posting = postingFor(event, current.get(event.payment.id) ?? null);
      planned.push(...posting.entries);
      if (posting.hold) {
        current.set(event.payment.id, posting.hold);
        changedHolds.set(event.payment.id, posting.hold);
      }
    } catch (error) {
      if (!(error instanceof PostingRejected)) throw error;
      rejected.set(event.eventId, error.message);
    }
  }
  return { planned, rejected, changedHolds };
}
