import { z } from 'zod';
import { isKnownCurrency } from '../../domain/src';
import { AccountType, Side } from './chart-of-accounts';

/**
 * The ledger's query API over NATS request/reply (Nest microservice message patterns). The
 * gateway depends on this file only: it never reads the ledger's tables.
 */
export const LEDGER_QUERIES = {
  accounts: 'ledger.query.accounts',
  account: 'ledger.query.account',
  balance: 'ledger.query.balance',
  entries: 'ledger.query.entries',
  entriesByPayments: 'ledger.query.entriesByPayments',
  trialBalance: 'ledger.query.trialBalance',
} as const;
export type LedgerQueryName = keyof typeof LEDGER_QUERIES;

/** The subject a query is served on: `<namespace>.ledger.query.…` in tests, bare otherwise. */
export function ledgerQuerySubject(namespace: string, name: LedgerQueryName): string {
  return namespace ? `${namespace}.${LEDGER_QUERIES[name]}` : LEDGER_QUERIES[name];
}

export const MAX_ENTRIES_PAGE = 100;

const isoDate = z.string().datetime({ offset: true });
const accountCode = z.string().min(1).max(200);
const currency = z
  .string()
  .transform((c) => c.toUpperCase())
  .refine(isKnownCurrency, 'unknown ISO 4217 currency');

export const accountRequest = z.object({ code: accountCode });
export const balanceRequest = z.object({ code: accountCode, asOf: isoDate.optional() });
export const entriesRequest = z.object({
  paymentId: z.string().min(1).max(64).optional(),
  first: z.number().int().min(1).max(MAX_ENTRIES_PAGE).default(20),
  after: z.string().max(200).optional(),
});
export const entriesByPaymentsRequest = z.object({
  paymentIds: z.array(z.string().min(1).max(64)).max(500),
});
export const trialBalanceRequest = z.object({ currency, asOf: isoDate.optional() });

export type BalanceRequest = z.input<typeof balanceRequest>;
export type EntriesRequest = z.input<typeof entriesRequest>;
export type TrialBalanceRequest = z.input<typeof trialBalanceRequest>;

/** Totals on one side pair; `balance` is signed toward the account's normal side. */
export interface SideTotals {
  readonly debits: number;
  readonly credits: number;
  readonly balance: number;
}

export interface AccountBalance {
  readonly code: string;
  readonly currency: string;
  /** Null for current balances (from account_balances); the instant otherwise. */
  readonly asOf: string | null;
  readonly posted: SideTotals;
  readonly pending: SideTotals;
}

export interface LedgerAccountDto {
  readonly code: string;
  readonly name: string;
  readonly type: AccountType;
  readonly normalSide: Side;
  readonly currency: string;
  readonly processor: string | null;
  readonly balance: AccountBalance;
}

export interface JournalLineDto {
  readonly accountCode: string;
  readonly direction: Side;
  readonly amount: number;
  readonly currency: string;
}

export interface JournalEntryDto {
  readonly id: string;
  readonly sourceEventId: string;
  readonly kind: string;
  readonly paymentId: string | null;
  readonly status: 'posted' | 'pending';
  readonly occurredAt: string;
  readonly postedAt: string;
  readonly lines: readonly JournalLineDto[];
}

export interface JournalEntryPage {
  readonly entries: readonly JournalEntryDto[];
  readonly hasNextPage: boolean;
}

export interface TrialBalanceRow {
  readonly code: string;
  readonly type: AccountType;
  readonly debits: number;
  readonly credits: number;
}

export interface TrialBalanceDto {
  readonly currency: string;
  readonly asOf: string | null;
  readonly rows: readonly TrialBalanceRow[];
  readonly debits: number;
  readonly credits: number;
  readonly balanced: boolean;
}

/** What a failed query answers: a code from the API's closed set and a human message. */
export interface LedgerQueryError {
  readonly code: 'BAD_USER_INPUT' | 'NOT_FOUND' | 'INVALID_STATE' | 'INTERNAL';
  readonly message: string;
  readonly field?: string;
}

export function encodeEntryCursor(entryId: string): string {
  return Buffer.from(entryId).toString('base64url');
}

export function decodeEntryCursor(cursor: string): string | null {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^je_[0-9a-z]{26}$/.test(id) ? id : null;
}
