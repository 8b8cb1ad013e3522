import { DataSource } from 'typeorm';
import { AccountType, Side } from './chart-of-accounts';
import {
  AccountBalance,
  JournalEntryDto,
  JournalEntryPage,
  LedgerAccountDto,
  SideTotals,
  TrialBalanceDto,
  decodeEntryCursor,
} from './query-contract';

/** Thrown for a query the caller got wrong; the message handler answers it as an error. */
export class LedgerQueryRejected extends Error {
  constructor(
    readonly code: 'BAD_USER_INPUT' | 'NOT_FOUND' | 'INVALID_STATE',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'LedgerQueryRejected';
  }
}

const ACCOUNT_COLUMNS = `a.code, a.name, a.type, a.normal_side, a.currency, a.processor,
  b.posted_debits, b.posted_credits, b.pending_debits, b.pending_credits`;

function totals(normalSide: Side, debits: number, credits: number): SideTotals {
  return { debits, credits, balance: normalSide === 'debit' ? debits - credits : credits - debits };
}

function toAccount(row: Record<string, unknown>): LedgerAccountDto {
  const normalSide = row.normal_side as Side;
  const currency = (row.currency as string).trim();
  return {
    code: row.code as string,
    name: row.name as string,
    type: row.type as AccountType,
    normalSide,
    currency,
    processor: (row.processor as string | null) ?? null,
    balance: {
      code: row.code as string,
      currency,
      asOf: null,
      posted: totals(normalSide, Number(row.posted_debits), Number(row.posted_credits)),
      pending: totals(normalSide, Number(row.pending_debits), Number(row.pending_credits)),
    },
  };
}

/** Reads the books: current balances from account_balances, past ones summed from lines. */
export class LedgerQueries {
  constructor(private readonly dataSource: DataSource) {}

  async accounts(): Promise<LedgerAccountDto[]> {
    const rows = await this.dataSource.query(
      `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts a JOIN account_balances b ON b.account_id = a.id
        ORDER BY a.code`,
    );
    return rows.map(toAccount);
  }

  async account(code: string): Promise<LedgerAccountDto | null> {
    const [row] = await this.dataSource.query(
      `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts a JOIN account_balances b ON b.account_id = a.id
        WHERE a.code = $1`,
      [code],
    );
    return row ? toAccount(row) : null;
  }

  /** Current balance, or the sum of lines that occurred at or before `asOf`. */
  async balance(code: string, asOf?: string): Promise<AccountBalance> {
    const account = await this.account(code);
    if (!account) throw new LedgerQueryRejected('NOT_FOUND', `ledger account ${code} not found`);
    if (!asOf) return account.balance;
    const [row] = await this.dataSource.query(
      `SELECT
         coalesce(sum(l.amount) FILTER (WHERE NOT l.pending AND l.direction = 'debit'), 0)::bigint  AS pd,
         coalesce(sum(l.amount) FILTER (WHERE NOT l.pending AND l.direction = 'credit'), 0)::bigint AS pc,
         coalesce(sum(l.amount) FILTER (WHERE l.pending AND l.direction = 'debit'), 0)::bigint      AS hd,
         coalesce(sum(l.amount) FILTER (WHERE l.pending AND l.direction = 'credit'), 0)::bigint     AS hc
       FROM journal_lines l JOIN ledger_accounts a ON a.id = l.account_id
      WHERE a.code = $1 AND l.occurred_at <= $2`,
      [code, asOf],
    );
    return {
      code,
      currency: account.currency,
      asOf: new Date(asOf).toISOString(),
      posted: totals(account.normalSide, Number(row.pd), Number(row.pc)),
      pending: totals(account.normalSide, Number(row.hd), Number(row.hc)),
    };
  }

  /** Newest first; `after` is the cursor of the last entry of the previous page. */
  async entries(options: {
    paymentId?: string;
    first: number;
    after?: string;
  }): Promise<JournalEntryPage> {
    const params: unknown[] = [options.first + 1];
    const where: string[] = [];
    if (options.paymentId) {
      params.push(options.paymentId);
      where.push(`payment_id = $${params.length}`);
    }
    if (options.after) {
      const id = decodeEntryCursor(options.after);
      if (!id) throw new LedgerQueryRejected('BAD_USER_INPUT', 'after is not a cursor', 'after');
      params.push(id);
      where.push(`id < $${params.length}`);
    }
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT id FROM journal_entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT $1`,
      params,
    );
    const ids = rows.slice(0, options.first).map((r) => r.id as string);
    return { entries: await this.entriesByIds(ids), hasNextPage: rows.length > options.first };
  }

  /** Every entry of each payment, oldest first (for `Payment.ledgerEntries`, batched). */
  async entriesByPayments(paymentIds: readonly string[]): Promise<JournalEntryDto[][]> {
    if (paymentIds.length === 0) return [];
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM journal_entries WHERE payment_id = ANY($1) ORDER BY id`,
      [paymentIds],
    );
    const entries = await this.entriesByIds(rows.map((r) => r.id));
    return paymentIds.map((id) => entries.filter((e) => e.paymentId === id));
  }

  private async entriesByIds(ids: readonly string[]): Promise<JournalEntryDto[]> {
    if (ids.length === 0) return [];
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT e.id, e.source_event_id, e.kind, e.payment_id, e.status, e.occurred_at, e.posted_at,
              l.line_no, a.code, l.direction, l.amount, l.currency
         FROM journal_entries e
         JOIN journal_lines l ON l.entry_id = e.id
         JOIN ledger_accounts a ON a.id = l.account_id
        WHERE e.id = ANY($1)
        ORDER BY e.id, l.line_no`,
      [ids],
    );
    const byId = new Map<string, JournalEntryDto & { lines: JournalEntryDto['lines'][number][] }>();
    for (const r of rows) {
      const id = r.id as string;
      let entry = byId.get(id);
      if (!entry) {
        entry = {
          id,
          sourceEventId: r.source_event_id as string,
          kind: r.kind as string,
          paymentId: (r.payment_id as string | null) ?? null,
          status: r.status as 'posted' | 'pending',
          occurredAt: new Date(r.occurred_at as string).toISOString(),
          postedAt: new Date(r.posted_at as string).toISOString(),
          lines: [],
        };
        byId.set(id, entry);
      }
      entry.lines.push({
        accountCode: r.code as string,
        direction: r.direction as Side,
        amount: Number(r.amount),
        currency: (r.currency as string).trim(),
      });
    }
    return ids.map((id) => byId.get(id)).filter((e): e is NonNullable<typeof e> => !!e);
  }

  /** Posted debits and credits per account of one currency (at `asOf` if given). */
  async trialBalance(currency: string, asOf?: string): Promise<TrialBalanceDto> {
    const rows: Array<Record<string, unknown>> = asOf
      ? await this.dataSource.query(
          `SELECT a.code, a.type,
             coalesce(sum(l.amount) FILTER (WHERE l.direction = 'debit'), 0)::bigint  AS debits,
             coalesce(sum(l.amount) FILTER (WHERE l.direction = 'credit'), 0)::bigint AS credits
           FROM ledger_accounts a
           JOIN journal_lines l ON l.account_id = a.id AND NOT l.pending AND l.occurred_at <= $2
          WHERE a.currency = $1
          GROUP BY a.code, a.type ORDER BY a.code`,
          [currency, asOf],
        )
      : await this.dataSource.query(
          `SELECT a.code, a.type, b.posted_debits AS debits, b.posted_credits AS credits
             FROM ledger_accounts a JOIN account_balances b ON b.account_id = a.id
            WHERE a.currency = $1 ORDER BY a.code`,
          [currency],
        );
    const list = rows.map((r) => ({
      code: r.code as string,
      type: r.type as AccountType,
      debits: Number(r.debits),
      credits: Number(r.credits),
    }));
    const debits = list.reduce((s, r) => s + r.debits, 0);
    const credits = list.reduce((s, r) => s + r.credits, 0);
    return {
      currency,
      asOf: asOf ? new Date(asOf).toISOString() : null,
      rows: list,
      debits,
      credits,
      balanced: debits === credits,
    };
  }
}
