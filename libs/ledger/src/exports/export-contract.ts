import { z } from 'zod';
import { isKnownCurrency } from '../../../domain/src';
import { EXPORT_FORMATS, ExportFormat } from './formats';

/** The ledger's export API over NATS request/reply (served by apps/ledger, queue group `ledger`). */
export const LEDGER_EXPORT_PATTERNS = {
  request: 'ledger.export.request',
  get: 'ledger.export.get',
  /** One slice of a completed export's file (base64), so the gateway needs no shared disk. */
  chunk: 'ledger.export.chunk',
} as const;
export type LedgerExportPatternName = keyof typeof LEDGER_EXPORT_PATTERNS;

export function ledgerExportSubject(namespace: string, name: LedgerExportPatternName): string {
  const subject = LEDGER_EXPORT_PATTERNS[name];
  return namespace ? `${namespace}.${subject}` : subject;
}

/** Raw bytes per chunk: 256 KiB (≈ 350 KB of base64), well under NATS' 1 MB max payload. */
export const EXPORT_CHUNK_BYTES = 256 * 1024;

const isoDate = z.string().datetime({ offset: true });

export const exportRequest = z
  .object({
    format: z.enum(EXPORT_FORMATS),
    from: isoDate,
    to: isoDate,
    currency: z
      .string()
      .transform((c) => c.toUpperCase())
      .refine(isKnownCurrency, 'unknown ISO 4217 currency')
      .optional(),
  })
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), {
    message: 'from must be before to',
    path: ['from'],
  });
export type ExportRequest = z.output<typeof exportRequest>;

export const exportIdRequest = z.object({ id: z.string().regex(/^lex_[0-9a-z]{26}$/) });
export const exportChunkRequest = z.object({
  id: z.string().regex(/^lex_[0-9a-z]{26}$/),
  offset: z.number().int().min(0),
});

export type ExportStatus = 'pending' | 'running' | 'completed' | 'failed';

/**
 * One row of ledger_exports. Totals are minor units as exact decimal strings (one currency, or
 * summed across them: a month of journals outgrows 2^31 and can outgrow 2^53).
 */
export interface LedgerExportDto {
  readonly id: string;
  readonly format: ExportFormat;
  readonly from: string;
  readonly to: string;
  readonly currency: string | null;
  readonly status: ExportStatus;
  readonly entryCount: number | null;
  readonly lineCount: number | null;
  readonly totalDebits: string | null;
  readonly totalCredits: string | null;
  /** Runs started (more than 1: it was interrupted and resumed from the start). */
  readonly attempts: number;
  /** Where the ledger wrote the file (its own disk); null until completed. */
  readonly path: string | null;
  readonly contentType: string;
  readonly fileName: string;
  readonly error: string | null;
  readonly createdAt: string;
  readonly completedAt: string | null;
}

export interface LedgerExportChunk {
  /** Base64 of up to EXPORT_CHUNK_BYTES bytes starting at the requested offset. */
  readonly data: string;
  readonly eof: boolean;
}
