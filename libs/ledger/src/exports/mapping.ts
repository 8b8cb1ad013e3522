import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ACCOUNT_TEMPLATES, AccountTemplate } from '../chart-of-accounts';

/**
 * How ledger accounts become ERP accounts. Keys are either an exact ledger account code
 * (`receivable:stripe:USD`) or a chart template key (`receivable`); the exact code wins.
 * `account` and `name` may use the placeholders `{processor}` and `{currency}`.
 */
export interface ErpAccountMapping {
  /** NetSuite: the Account column (number, internal id or full name); QBO: Account Name. */
  readonly account: string;
  /** The Name column (an existing customer/vendor/entity in the ERP); empty when absent. */
  readonly name?: string;
}

export interface ErpMapping {
  readonly accounts: Readonly<Record<string, ErpAccountMapping>>;
}

export interface LedgerExportMapping {
  readonly netsuite: ErpMapping & { readonly subsidiary?: string; readonly dateFormat: string };
  readonly quickbooks: ErpMapping & { readonly dateFormat: string };
}

export const DATE_FORMATS = ['MM/DD/YYYY', 'DD/MM/YYYY', 'YYYY-MM-DD'] as const;

const accountMapping = z.object({
  account: z.string().trim().min(1).max(200),
  name: z.string().max(200).optional(),
});
const accounts = z.record(z.string().min(1).max(200), accountMapping);
const dateFormat = z.enum(DATE_FORMATS).default('MM/DD/YYYY');

export const mappingFileSchema = z
  .object({
    netsuite: z
      .object({ subsidiary: z.string().trim().min(1).max(200).optional(), dateFormat, accounts })
      .strict(),
    quickbooks: z.object({ dateFormat, accounts }).strict(),
  })
  .strict();

/**
 * Built-in mapping for the chart in chart-of-accounts.ts, so exports work out of the box:
 * one ERP account per template, sub-accounted per processor where the chart is per processor
 * (QuickBooks' `Parent:Child` notation). Numbers follow a conventional chart (1xxx assets,
 * 2xxx liabilities, 4xxx revenue, 6xxx expenses); finance replaces them with LEDGER_EXPORT_MAPPING.
 */
export const DEFAULT_EXPORT_MAPPING: LedgerExportMapping = withEveryTemplate({
  netsuite: {
    dateFormat: 'MM/DD/YYYY',
    accounts: {
      receivable: { account: '1210' },
      clearing: { account: '2150' },
      fees: { account: '6120' },
      refunds: { account: '4910' },
      disputes: { account: '6130' },
      bank: { account: '1010' },
      suspense: { account: '1990' },
    },
  },
  quickbooks: {
    dateFormat: 'MM/DD/YYYY',
    accounts: {
      receivable: { account: 'Processor Receivable:{processor}' },
      clearing: { account: 'Customer Payments Clearing' },
      fees: { account: 'Payment Processing Fees:{processor}' },
      refunds: { account: 'Refunds' },
      disputes: { account: 'Disputes and Chargebacks:{processor}' },
      bank: { account: 'Bank' },
      suspense: { account: 'Suspense' },
    },
  },
});

/**
 * A template added to the chart later still exports by default: under its own name (NetSuite
 * accepts an account's name in the Account column), sub-accounted per processor in QuickBooks.
 */
function withEveryTemplate(mapping: LedgerExportMapping): LedgerExportMapping {
  const netsuite = { ...mapping.netsuite.accounts };
  const quickbooks = { ...mapping.quickbooks.accounts };
  for (const t of Object.values(ACCOUNT_TEMPLATES) as AccountTemplate[]) {
    const perProcessor = t.scope === 'processor' ? ':{processor}' : '';
    netsuite[t.key] ??= { account: t.name };
    quickbooks[t.key] ??= { account: `${t.name}${perProcessor}` };
  }
  return {
    netsuite: { ...mapping.netsuite, accounts: netsuite },
    quickbooks: { ...mapping.quickbooks, accounts: quickbooks },
  };
}

export class ExportMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportMappingError';
  }
}

export function parseExportMapping(json: unknown, source = 'mapping'): LedgerExportMapping {
  const parsed = mappingFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new ExportMappingError(`${source} is not a valid export mapping: ${problems}`);
  }
  return parsed.data;
}

/** The mapping file (LEDGER_EXPORT_MAPPING) when set, else the built-in one. Throws at boot. */
export function loadExportMapping(path: string | undefined): LedgerExportMapping {
  if (!path) return DEFAULT_EXPORT_MAPPING;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ExportMappingError(
      `LEDGER_EXPORT_MAPPING ${path} cannot be read: ${(error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ExportMappingError(
      `LEDGER_EXPORT_MAPPING ${path} is not JSON: ${(error as Error).message}`,
    );
  }
  return parseExportMapping(json, `LEDGER_EXPORT_MAPPING ${path}`);
}

export interface AccountRef {
  readonly code: string;
  readonly currency: string;
  readonly processor: string | null;
}

/** The ERP account of one ledger account, or null when neither its code nor its template maps. */
export function resolveAccount(
  mapping: ErpMapping,
  account: AccountRef,
): Required<ErpAccountMapping> | null {
  const template = account.code.split(':')[0];
  const hit = mapping.accounts[account.code] ?? mapping.accounts[template];
  if (!hit) return null;
  const fill = (s: string) =>
    s.replace(/\{processor\}/g, account.processor ?? '').replace(/\{currency\}/g, account.currency);
  return { account: fill(hit.account), name: fill(hit.name ?? '') };
}

/** `YYYY-MM-DD` (UTC) in one of the supported layouts. */
export function formatDate(isoDay: string, format: (typeof DATE_FORMATS)[number] | string): string {
  const [y, m, d] = isoDay.split('-');
  if (format === 'DD/MM/YYYY') return `${d}/${m}/${y}`;
  if (format === 'YYYY-MM-DD') return `${y}-${m}-${d}`;
  return `${m}/${d}/${y}`;
}
