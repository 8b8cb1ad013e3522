import { z } from 'zod';
import { isKnownCurrency } from '../../../domain/src';
import { LedgerQueryRejected } from '../ledger-queries';

/**
 * The reconciliation operations API over NATS request/reply (served by apps/ledger, queue group
 * `ledger`): the summary of a period, the exception queue, an operator's resolution, and one
 * payout's reconciliation. The gateway depends on this file, never on the tables.
 */
export const RECONCILIATION_PATTERNS = {
  summary: 'ledger.reconciliation.summary',
  exceptions: 'ledger.reconciliation.exceptions',
  resolve: 'ledger.reconciliation.resolve',
  payout: 'ledger.reconciliation.payout',
} as const;
export type ReconciliationPatternName = keyof typeof RECONCILIATION_PATTERNS;

export function reconciliationSubject(namespace: string, name: ReconciliationPatternName): string {
  const subject = RECONCILIATION_PATTERNS[name];
  return namespace ? `${namespace}.${subject}` : subject;
}

export const ITEM_STATUSES = [
  'matched',
  'amount_mismatch',
  'fee_mismatch',
  'currency_mismatch',
  'missing_in_ledger',
  'missing_at_processor',
  'duplicate',
] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export const EXCEPTION_TYPES = ITEM_STATUSES.filter(
  (s): s is Exclude<ItemStatus, 'matched'> => s !== 'matched',
);
export type ExceptionType = Exclude<ItemStatus, 'matched'>;

export const EXCEPTION_STATUSES = ['open', 'resolved', 'ignored'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

export const MAX_EXCEPTIONS_PAGE = 100;
export const MAX_REASON_LENGTH = 1000;

const EXCEPTION_ID = /^rex_[0-9a-z]{26}$/;
const isoDate = z.string().datetime({ offset: true });
const currency = z
  .string()
  .transform((c) => c.toUpperCase())
  .refine(isKnownCurrency, 'unknown ISO 4217 currency');
const processor = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_-]+$/, 'a processor name such as stripe or simulator');

export const summaryRequest = z
  .object({
    from: isoDate,
    to: isoDate,
    processor: processor.optional(),
    currency: currency.optional(),
  })
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), {
    message: 'from must be before to',
    path: ['from'],
  });
export type SummaryRequest = z.output<typeof summaryRequest>;

export const exceptionsRequest = z.object({
  filter: z
    .object({
      status: z.enum(EXCEPTION_STATUSES).optional(),
      type: z.enum(EXCEPTION_TYPES as [ExceptionType, ...ExceptionType[]]).optional(),
      processor: processor.optional(),
      currency: currency.optional(),
      openedAfter: isoDate.optional(),
      openedBefore: isoDate.optional(),
    })
    .default({}),
  first: z.number().int().min(1).max(MAX_EXCEPTIONS_PAGE).default(20),
  after: z.string().min(1).max(200).optional(),
});
export type ExceptionsRequest = z.output<typeof exceptionsRequest>;

/**
 * An operator's resolution. `resolved`: the difference is understood (and, with
 * `postCorrection`, booked); `ignored`: accepted as is, never with a correction.
 */
export const resolveRequest = z
  .object({
    id: z.string().regex(EXCEPTION_ID, 'not a reconciliation exception id (rex_…)'),
    resolution: z.enum(['resolved', 'ignored']),
    reason: z
      .string()
      .trim()
      .min(1, 'a reason is required')
      .max(MAX_REASON_LENGTH, `at most ${MAX_REASON_LENGTH} characters`),
    postCorrection: z.boolean().default(false),
    /** The API client that asked (audited). */
    actor: z.string().min(1).max(100),
    requestId: z.string().max(200).optional(),
  })
  .refine((r) => !(r.resolution === 'ignored' && r.postCorrection), {
    message: 'an ignored exception books nothing: resolve it to post a correction',
    path: ['postCorrection'],
  });
export type ResolveRequest = z.output<typeof resolveRequest>;
export type ResolveInput = z.input<typeof resolveRequest>;

export const payoutRequest = z.object({ payoutId: z.string().min(1).max(128) });

/**
 * Parses a request or refuses it as BAD_USER_INPUT, naming the first offending field (its
 * path without the wrapping `filter`), so the gateway can report `extensions.field`.
 */
export function parseReconciliationRequest<T>(schema: z.ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data ?? {});
  if (parsed.success) return parsed.data;
  const [first] = parsed.error.issues;
  const field = first?.path.filter((p) => p !== 'filter').join('.') || 'input';
  const reason = parsed.error.issues
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new LedgerQueryRejected('BAD_USER_INPUT', reason, field);
}

// ── answers ────────────────────────────────────────────────────────────────────────────────

export interface StatusTotalDto {
  readonly status: ItemStatus;
  readonly currency: string;
  readonly count: number;
  readonly amountAtStake: number;
}

export interface CurrencyTotalDto {
  readonly currency: string;
  readonly itemCount: number;
  readonly amountAtStake: number;
  readonly openExceptionCount: number;
  readonly openAmountAtStake: number;
}

/** Items of a period by status and currency; amounts never summed across currencies. */
export interface ReconciliationSummaryDto {
  readonly from: string;
  readonly to: string;
  readonly processor: string | null;
  readonly currency: string | null;
  readonly byStatus: readonly StatusTotalDto[];
  readonly totals: readonly CurrencyTotalDto[];
  readonly itemCount: number;
  readonly openExceptionCount: number;
}

export interface ReconciliationItemDto {
  readonly id: string;
  readonly kind: string;
  readonly itemKey: string;
  readonly status: ItemStatus;
  readonly processor: string;
  readonly currency: string;
  readonly paymentId: string | null;
  readonly refundId: string | null;
  readonly disputeId: string | null;
  readonly payoutId: string | null;
  readonly sourceReference: string | null;
  readonly balanceTransactionCount: number;
  readonly processorAmount: number | null;
  readonly processorFee: number | null;
  readonly processorCurrency: string | null;
  readonly gatewayAmount: number | null;
  readonly ledgerAmount: number | null;
  readonly ledgerFee: number | null;
  readonly amountAtStake: number;
  readonly occurredAt: string;
  readonly reconciledAt: string;
}

export interface ExceptionAuditDto {
  readonly action: string;
  readonly actor: string;
  readonly reason: string;
  readonly details: unknown;
  readonly at: string;
}

export interface ReconciliationExceptionDto {
  readonly id: string;
  readonly type: ExceptionType;
  readonly status: ExceptionStatus;
  readonly processor: string;
  readonly currency: string;
  readonly amountAtStake: number;
  readonly openedAt: string;
  /** Seconds open: until now, or until it was resolved or ignored. */
  readonly ageSeconds: number;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  readonly resolutionReason: string | null;
  /** `<exception id>:correction` when a correcting entry was booked. */
  readonly correctionSourceId: string | null;
  readonly item: ReconciliationItemDto;
  readonly audit: readonly ExceptionAuditDto[];
  /** Keyset position in the queue (oldest first). */
  readonly cursor: string;
}

export interface ExceptionPageDto {
  readonly exceptions: readonly ReconciliationExceptionDto[];
  readonly hasNextPage: boolean;
}

/**
 * One payout: its balance transactions against its amount and the bank posting (the engine's
 * `payoutReconciliation`, payout-reconciliation.ts). Null totals: nothing linked / booked.
 */
export interface PayoutReconciliationDto {
  readonly payoutId: string;
  readonly processor: string;
  readonly currency: string;
  readonly payoutAmount: number;
  readonly balanceTransactionTotal: number | null;
  readonly ledgerBankAmount: number | null;
  readonly status: ItemStatus;
  readonly itemCount: number;
}

// ── cursors: (opened_at with microseconds, id), oldest first ───────────────────────────────

export function encodeExceptionCursor(openedAt: string, id: string): string {
  return Buffer.from(`${openedAt}|${id}`).toString('base64url');
}

export function decodeExceptionCursor(cursor: string): { openedAt: string; id: string } | null {
  const [openedAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !id || !EXCEPTION_ID.test(id)) return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(openedAt)) return null;
  return { openedAt, id };
}
