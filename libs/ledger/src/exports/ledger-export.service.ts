import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataSource, QueryRunner } from 'typeorm';
import { ulid } from '../../../domain/src';
import {
  EXPORT_CHUNK_BYTES,
  ExportRequest,
  ExportStatus,
  LedgerExportChunk,
  LedgerExportDto,
} from './export-contract';
import {
  ExportEntry,
  ExportFormat,
  ExportFormatter,
  ExportLine,
  ResolvedAccounts,
  formatterFor,
} from './formats';
import { ErpAccountMapping, LedgerExportMapping, resolveAccount } from './mapping';

/** Rows per FETCH from the server-side cursor: memory stays flat whatever the period holds. */
export const EXPORT_FETCH_SIZE = 5000;

export function defaultExportDir(): string {
  return join(tmpdir(), 'ledger-exports');
}

/** Accounts that have lines in the period but no ERP mapping: nothing is written. */
export class UnmappedAccountsError extends Error {
  constructor(
    readonly erp: string,
    readonly missing: readonly string[],
  ) {
    super(
      `no ${erp} account mapping for ${missing.length} ledger account(s): ${missing.join(', ')}`,
    );
    this.name = 'UnmappedAccountsError';
  }
}

export interface LedgerExportOptions {
  readonly dir?: string;
  readonly mapping: LedgerExportMapping;
  readonly fetchSize?: number;
  /** A running export beats its heartbeat this often (default 10 s)… */
  readonly heartbeatMs?: number;
  /** …and is taken as interrupted when it is older than this (default 2 min). */
  readonly staleAfterMs?: number;
  /** Runs an export may start before an interruption fails it (default 3). */
  readonly maxAttempts?: number;
}

/** What a recovery sweep did (`recoverInterrupted`). */
export interface ExportRecovery {
  /** Interrupted exports put back to pending, and pending ones nobody here had queued. */
  readonly queued: readonly string[];
  /** Interrupted once too often: failed, with the reason. */
  readonly failed: readonly string[];
}

const EXPORT_COLUMNS = `id, format, period_from, period_to, currency, status, entry_count, line_count,
  total_debits::text AS total_debits, total_credits::text AS total_credits, path, error,
  created_at, completed_at, attempts`;

/**
 * Journal exports for ERPs: the period's posted lines read through a server-side cursor in one
 * REPEATABLE READ transaction (a consistent snapshot, FETCH 5000 at a time), each entry checked
 * to balance, written as it is read, recorded in ledger_exports.
 */
export class LedgerExportService {
  private queue: Promise<unknown> = Promise.resolve();
  /** Exports queued in this process and not finished yet. */
  private readonly queued = new Set<string>();
  readonly dir: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: LedgerExportOptions,
  ) {
    this.dir = options.dir ?? defaultExportDir();
  }

  /** Records a pending export. */
  async create(request: ExportRequest): Promise<LedgerExportDto> {
    const id = `lex_${ulid()}`;
    const [row] = await this.dataSource.query(
      `INSERT INTO ledger_exports (id, format, period_from, period_to, currency, status)
       VALUES ($1, $2, $3, $4, $5, 'pending') RETURNING ${EXPORT_COLUMNS}`,
      [id, request.format, request.from, request.to, request.currency ?? null],
    );
    return this.toDto(row);
  }

  /** Records an export and runs it in the background, one at a time per ledger process. */
  async start(request: ExportRequest): Promise<LedgerExportDto> {
    const created = await this.create(request);
    this.enqueue(created.id);
    return created;
  }

  /**
   * Recovery sweep (at boot and periodically, in every ledger process): a running export whose
   * heartbeat is older than `staleAfterMs` was interrupted (its process stopped); it goes back
   * to pending, or to failed once it has started `maxAttempts` times. Then every pending export
   * not queued here is queued (claiming is atomic, so two processes never run the same one).
   */
  async recoverInterrupted(): Promise<ExportRecovery> {
    const stale = `${this.options.staleAfterMs ?? 120_000} milliseconds`;
    const reset = await this.update(
      `UPDATE ledger_exports
          SET status = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'pending' END,
              error = CASE WHEN attempts >= $2
                THEN 'interrupted ' || attempts || ' times: the ledger stopped while it ran' END,
              completed_at = CASE WHEN attempts >= $2 THEN now() END,
              heartbeat_at = NULL
        WHERE status = 'running'
          -- no heartbeat at all: running when the ledger was upgraded to heartbeats
          AND (heartbeat_at IS NULL OR heartbeat_at < now() - $1::interval)
        RETURNING id, status`,
      [stale, this.options.maxAttempts ?? 3],
    );
    const pending = (await this.dataSource.query(
      `SELECT id FROM ledger_exports WHERE status = 'pending' ORDER BY created_at`,
    )) as { id: string }[];
    const queued = pending.map((r) => r.id).filter((id) => !this.queued.has(id));
    for (const id of queued) this.enqueue(id);
    return {
      queued,
      failed: reset.filter((r) => r.status === 'failed').map((r) => r.id as string),
    };
  }

  private enqueue(id: string): void {
    if (this.queued.has(id)) return;
    this.queued.add(id);
    this.queue = this.queue
      .then(() => this.run(id))
      .catch(() => undefined)
      .finally(() => this.queued.delete(id));
  }

  /** Waits for the background exports started so far (tests, shutdown). */
  async idle(): Promise<void> {
    await this.queue;
  }

  async get(id: string): Promise<LedgerExportDto | null> {
    const [row] = await this.dataSource.query(
      `SELECT ${EXPORT_COLUMNS} FROM ledger_exports WHERE id = $1`,
      [id],
    );
    return row ? this.toDto(row) : null;
  }

  /** A slice of a completed export's file, for the gateway's download over NATS. */
  async chunk(id: string, offset: number): Promise<LedgerExportChunk | null> {
    const record = await this.get(id);
    if (!record || record.status !== 'completed' || !record.path) return null;
    const file = await open(record.path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null; // removed since (retention): not found
      throw error;
    });
    if (!file) return null;
    try {
      const buffer = Buffer.alloc(EXPORT_CHUNK_BYTES);
      const { bytesRead } = await file.read(buffer, 0, EXPORT_CHUNK_BYTES, offset);
      const { size } = await file.stat();
      return {
        data: buffer.subarray(0, bytesRead).toString('base64'),
        eof: offset + bytesRead >= size,
      };
    } finally {
      await file.close();
    }
  }

  /**
   * Runs a pending export (claims it: pending → running), writing to `out` or to
   * `<dir>/<id>.<ext>`. Failures are recorded on the row and rethrown.
   */
  async run(id: string, out?: string): Promise<LedgerExportDto> {
    const [claimed] = await this.update(
      `UPDATE ledger_exports SET status = 'running', attempts = attempts + 1, heartbeat_at = now()
        WHERE id = $1 AND status = 'pending'
       RETURNING ${EXPORT_COLUMNS}`,
      [id],
    );
    if (!claimed) throw new Error(`export ${id} is not pending`);
    const heartbeat = setInterval(() => {
      this.dataSource
        .query(
          `UPDATE ledger_exports SET heartbeat_at = now() WHERE id = $1 AND status = 'running'`,
          [id],
        )
        .catch(() => undefined); // a missed beat only risks an early retry, never a wrong file
    }, this.options.heartbeatMs ?? 10_000);
    heartbeat.unref();
    const runner = this.dataSource.createQueryRunner();
    let partial: string | null = null;
    try {
      // inside the try: whatever fails from here on marks the export failed, beat stopped
      const record = this.toDto(claimed);
      const formatter = formatterFor(record.format, this.options.mapping);
      const path = out ?? join(this.dir, `${id}.${formatter.extension}`);
      await runner.connect();
      await runner.startTransaction('REPEATABLE READ');
      const filter = periodFilter(record);
      const accounts = await this.resolveAccounts(runner, formatter, filter);
      await mkdir(dirname(path), { recursive: true });
      partial = `${path}.partial`;
      const totals = await this.write(runner, formatter, accounts, filter, partial);
      await runner.commitTransaction();
      await rename(partial, path);
      const [row] = await this.update(
        `UPDATE ledger_exports SET status = 'completed', entry_count = $2, line_count = $3,
           total_debits = $4, total_credits = $5, path = $6, completed_at = now(), heartbeat_at = NULL
         WHERE id = $1 RETURNING ${EXPORT_COLUMNS}`,
        [
          id,
          totals.entries,
          totals.lines,
          totals.debits.toString(),
          totals.credits.toString(),
          path,
        ],
      );
      return this.toDto(row);
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      if (partial) await rm(partial, { force: true });
      await this.dataSource.query(
        `UPDATE ledger_exports SET status = 'failed', error = $2, completed_at = now(), heartbeat_at = NULL
          WHERE id = $1`,
        [id, (error as Error).message.slice(0, 2000)],
      );
      throw error;
    } finally {
      clearInterval(heartbeat);
      await runner.release();
    }
  }

  /** Every account with lines in the period must map before a byte is written. */
  private async resolveAccounts(
    runner: QueryRunner,
    formatter: ExportFormatter,
    filter: PeriodFilter,
  ): Promise<ResolvedAccounts> {
    const rows: Array<{ code: string; name: string; currency: string; processor: string | null }> =
      await runner.query(
        `SELECT a.code, a.name, a.currency, a.processor FROM ledger_accounts a
          WHERE EXISTS (SELECT 1 FROM journal_lines l WHERE l.account_id = a.id AND ${filter.sql})
          ORDER BY a.code`,
        filter.params,
      );
    const resolved = new Map<string, Required<ErpAccountMapping>>();
    const missing: string[] = [];
    for (const row of rows) {
      const account = { code: row.code, currency: row.currency.trim(), processor: row.processor };
      if (!formatter.erp) {
        resolved.set(row.code, { account: row.code, name: row.name });
        continue;
      }
      const hit = resolveAccount(this.options.mapping[formatter.erp], account);
      if (hit) resolved.set(row.code, hit);
      else missing.push(row.code);
    }
    if (missing.length > 0) throw new UnmappedAccountsError(formatter.erp!, missing);
    return resolved;
  }

  private async write(
    runner: QueryRunner,
    formatter: ExportFormatter,
    accounts: ResolvedAccounts,
    filter: PeriodFilter,
    path: string,
  ): Promise<{ entries: number; lines: number; debits: bigint; credits: bigint }> {
    const totals = { entries: 0, lines: 0, debits: 0n, credits: 0n };
    const file = createWriteStream(path, { encoding: 'utf8' });
    const failed = once(file, 'error').then(([e]) => Promise.reject(e as Error));
    failed.catch(() => undefined);
    const put = async (text: string) => {
      if (text && !file.write(text)) await Promise.race([once(file, 'drain'), failed]);
    };
    try {
      await put(formatter.header());
      // Ordered by the primary key of journal_lines: an index scan, no sort of the period.
      await runner.query(
        `DECLARE ledger_export NO SCROLL CURSOR FOR
         SELECT l.entry_id, l.line_no, e.kind, e.payment_id, e.source_event_id,
                to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at,
                a.code, a.name, a.processor, l.direction, l.amount::text AS amount, l.currency
           FROM journal_lines l
           JOIN journal_entries e ON e.id = l.entry_id
           JOIN ledger_accounts a ON a.id = l.account_id
          WHERE ${filter.sql}
          ORDER BY l.entry_id, l.line_no`,
        filter.params,
      );
      let current: { entry: Omit<ExportEntry, 'lines'>; lines: ExportLine[] } | null = null;
      const flush = (): string => {
        if (!current) return '';
        const entry: ExportEntry = { ...current.entry, lines: current.lines };
        assertBalanced(entry);
        totals.entries++;
        for (const line of entry.lines) {
          totals.lines++;
          if (line.direction === 'debit') totals.debits += BigInt(line.amount);
          else totals.credits += BigInt(line.amount);
        }
        current = null;
        return formatter.entry(entry, accounts);
      };
      const size = this.options.fetchSize ?? EXPORT_FETCH_SIZE;
      for (;;) {
        const rows: Array<Record<string, string | null>> = await runner.query(
          `FETCH ${size} FROM ledger_export`,
        );
        let text = '';
        for (const r of rows) {
          if (current && current.entry.id !== r.entry_id) text += flush();
          if (!current) {
            current = {
              entry: {
                id: r.entry_id!,
                kind: r.kind!,
                paymentId: r.payment_id,
                sourceEventId: r.source_event_id!,
                occurredAt: r.occurred_at!,
              },
              lines: [],
            };
          }
          current.lines.push({
            lineNo: Number(r.line_no),
            accountCode: r.code!,
            accountName: r.name!,
            processor: r.processor,
            direction: r.direction as 'debit' | 'credit',
            amount: r.amount!,
            currency: r.currency!.trim(),
          });
        }
        if (rows.length < size) text += flush();
        await put(text);
        if (rows.length < size) break;
      }
      await runner.query(`CLOSE ledger_export`);
      file.end();
      await Promise.race([once(file, 'finish'), failed]);
      return totals;
    } catch (error) {
      file.destroy();
      throw error;
    }
  }

  /** TypeORM answers an UPDATE … RETURNING on Postgres with `[rows, affected]`. */
  private async update(sql: string, params: unknown[]): Promise<Array<Record<string, unknown>>> {
    const result: unknown = await this.dataSource.query(sql, params);
    const [rows] = result as [Array<Record<string, unknown>>, number];
    return rows;
  }

  private toDto(row: Record<string, unknown>): LedgerExportDto {
    const format = row.format as ExportFormat;
    const formatter = formatterFor(format, this.options.mapping);
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
    return {
      id: row.id as string,
      format,
      from: iso(row.period_from)!,
      to: iso(row.period_to)!,
      currency: row.currency ? (row.currency as string).trim() : null,
      status: row.status as ExportStatus,
      entryCount: num(row.entry_count),
      lineCount: num(row.line_count),
      totalDebits: (row.total_debits as string | null) ?? null,
      totalCredits: (row.total_credits as string | null) ?? null,
      attempts: Number(row.attempts ?? 0),
      path: (row.path as string | null) ?? null,
      contentType: formatter.contentType,
      fileName: `${row.id as string}.${formatter.extension}`,
      error: (row.error as string | null) ?? null,
      createdAt: iso(row.created_at)!,
      completedAt: iso(row.completed_at),
    };
  }
}

interface PeriodFilter {
  readonly sql: string;
  readonly params: unknown[];
}

/** Posted lines whose business time is in [from, to), of one currency when asked. */
function periodFilter(record: LedgerExportDto): PeriodFilter {
  const params: unknown[] = [record.from, record.to];
  let sql = `NOT l.pending AND l.occurred_at >= $1 AND l.occurred_at < $2`;
  if (record.currency) {
    params.push(record.currency);
    sql += ` AND l.currency = $3`;
  }
  return { sql, params };
}

/** The database guarantees it; the export re-checks so a file never carries an unbalanced entry. */
function assertBalanced(entry: ExportEntry): void {
  const net = new Map<string, bigint>();
  for (const line of entry.lines) {
    const signed = line.direction === 'debit' ? BigInt(line.amount) : -BigInt(line.amount);
    net.set(line.currency, (net.get(line.currency) ?? 0n) + signed);
  }
  for (const [currency, value] of net) {
    if (value !== 0n) throw new Error(`journal entry ${entry.id} does not balance in ${currency}`);
  }
}
