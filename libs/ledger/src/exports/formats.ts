import { createHash } from 'node:crypto';
import { currencyExponent, CurrencyCode } from '../../../domain/src';
import { formatMinorUnits } from './amounts';
import { csvRow } from './csv';
import { ErpAccountMapping, LedgerExportMapping, formatDate } from './mapping';

export const EXPORT_FORMATS = ['netsuite', 'quickbooks', 'csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportLine {
  readonly lineNo: number;
  readonly accountCode: string;
  readonly accountName: string;
  readonly processor: string | null;
  readonly direction: 'debit' | 'credit';
  /** Minor units as Postgres returns a bigint: a decimal integer string. */
  readonly amount: string;
  readonly currency: string;
}

export interface ExportEntry {
  readonly id: string;
  readonly kind: string;
  readonly paymentId: string | null;
  readonly sourceEventId: string;
  /** ISO instant (UTC). */
  readonly occurredAt: string;
  readonly lines: readonly ExportLine[];
}

/** ERP accounts resolved before anything is written, by ledger account code. */
export type ResolvedAccounts = ReadonlyMap<string, Required<ErpAccountMapping>>;

export interface ExportFormatter {
  readonly extension: string;
  readonly contentType: string;
  /** Whether the format needs the ERP mapping (generic formats use the ledger's own codes). */
  readonly erp: 'netsuite' | 'quickbooks' | null;
  header(): string;
  entry(entry: ExportEntry, accounts: ResolvedAccounts): string;
}

/**
 * QuickBooks Online limits Journal No. (DocNumber) to 21 characters, the entry id has 29: a
 * deterministic 21-character digest of the entry id (`J` + 20 Crockford base32 digits, 100
 * bits). The same entry always gets the same number, so a re-import is refused as a duplicate.
 */
export function quickbooksJournalNo(entryId: string): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const digest = createHash('sha256').update(entryId).digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 13)) bits = (bits << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < 20; i++) {
    out = alphabet[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return `J${out}`;
}

/** The memo of every line of an entry: what happened and where it came from. */
export function entryMemo(entry: ExportEntry): string {
  const payment = entry.paymentId ? ` payment ${entry.paymentId}` : '';
  return `${entry.kind}${payment} event ${entry.sourceEventId} entry ${entry.id}`;
}

const day = (iso: string) => iso.slice(0, 10);

function money(line: ExportLine): { debit: string; credit: string } {
  const text = formatMinorUnits(line.amount, currencyExponent(line.currency as CurrencyCode));
  return line.direction === 'debit' ? { debit: text, credit: '' } : { debit: '', credit: text };
}

export function formatterFor(format: ExportFormat, mapping: LedgerExportMapping): ExportFormatter {
  switch (format) {
    case 'netsuite': {
      const { subsidiary, dateFormat } = mapping.netsuite;
      const columns = ['External ID', 'Date', 'Subsidiary', 'Currency', 'Exchange Rate'];
      return {
        extension: 'csv',
        contentType: 'text/csv; charset=utf-8',
        erp: 'netsuite',
        header: () => csvRow([...columns, 'Account', 'Debit', 'Credit', 'Memo', 'Name']),
        entry: (entry, accounts) => {
          const memo = entryMemo(entry);
          const date = formatDate(day(entry.occurredAt), dateFormat);
          return entry.lines
            .map((line) => {
              const erp = accounts.get(line.accountCode)!;
              const { debit, credit } = money(line);
              const head = [entry.id, date, subsidiary ?? '', line.currency, '1'];
              return csvRow([...head, erp.account, debit, credit, memo, erp.name]);
            })
            .join('');
        },
      };
    }
    case 'quickbooks': {
      const { dateFormat } = mapping.quickbooks;
      return {
        extension: 'csv',
        contentType: 'text/csv; charset=utf-8',
        erp: 'quickbooks',
        header: () =>
          csvRow([
            'Journal No.',
            'Journal Date',
            'Account Name',
            'Debits',
            'Credits',
            'Description',
            'Name',
            'Currency',
          ]),
        entry: (entry, accounts) => {
          const no = quickbooksJournalNo(entry.id);
          const memo = entryMemo(entry);
          const date = formatDate(day(entry.occurredAt), dateFormat);
          return entry.lines
            .map((line) => {
              const erp = accounts.get(line.accountCode)!;
              const { debit, credit } = money(line);
              return csvRow([no, date, erp.account, debit, credit, memo, erp.name, line.currency]);
            })
            .join('');
        },
      };
    }
    case 'csv':
      return {
        extension: 'csv',
        contentType: 'text/csv; charset=utf-8',
        erp: null,
        header: () => csvRow(GENERIC_COLUMNS),
        entry: (entry) =>
          entry.lines
            .map((line) => csvRow(GENERIC_COLUMNS.map((c) => generic(entry, line)[c])))
            .join(''),
      };
    case 'jsonl':
      return {
        extension: 'jsonl',
        contentType: 'application/x-ndjson',
        erp: null,
        header: () => '',
        entry: (entry) =>
          entry.lines.map((line) => `${JSON.stringify(generic(entry, line))}\n`).join(''),
      };
  }
}

export const GENERIC_COLUMNS = [
  'entry_id',
  'line_no',
  'date',
  'occurred_at',
  'account_code',
  'account_name',
  'debit',
  'credit',
  'currency',
  'memo',
  'entry_kind',
  'source_event_id',
  'payment_id',
] as const;

function generic(
  entry: ExportEntry,
  line: ExportLine,
): Record<(typeof GENERIC_COLUMNS)[number], string | number | null> {
  const { debit, credit } = money(line);
  return {
    entry_id: entry.id,
    line_no: line.lineNo,
    date: day(entry.occurredAt),
    occurred_at: entry.occurredAt,
    account_code: line.accountCode,
    account_name: line.accountName,
    debit,
    credit,
    currency: line.currency,
    memo: entryMemo(entry),
    entry_kind: entry.kind,
    source_event_id: entry.sourceEventId,
    payment_id: entry.paymentId,
  };
}
