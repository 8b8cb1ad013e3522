import { LedgerExportDto } from '../../../../libs/ledger/src/exports';
import { toLedgerExport } from './ledger-export.resolver';

const dto = (totals: string | null): LedgerExportDto => ({
  id: 'lex_01jdzzzzzzzzzzzzzzzzzzzzzz',
  format: 'netsuite',
  from: '2026-10-01T00:00:00.000Z',
  to: '2026-11-01T00:00:00.000Z',
  currency: 'USD',
  status: totals === null ? 'running' : 'completed',
  entryCount: totals === null ? null : 3,
  lineCount: totals === null ? null : 6,
  totalDebits: totals,
  totalCredits: totals,
  path: null,
  contentType: 'text/csv',
  fileName: 'x.csv',
  error: null,
  createdAt: '2026-11-02T00:00:00.000Z',
  completedAt: null,
  attempts: 1,
});

describe('toLedgerExport totals', () => {
  it('gives totals that fit a 32-bit Int in both fields', () => {
    expect(toLedgerExport(dto('2147483647'))).toMatchObject({
      totalDebits: 2147483647,
      totalDebitsMinor: 2147483647,
      totalCredits: 2147483647,
      totalCreditsMinor: 2147483647,
    });
  });

  it('answers null for the Int field beyond 2^31 − 1 (never a wrapped or rounded number) and the exact amount in MinorUnits', () => {
    // a month of journals: $25,000,000.00 in cents
    expect(toLedgerExport(dto('2500000000'))).toMatchObject({
      totalDebits: null,
      totalDebitsMinor: 2500000000,
    });
    expect(toLedgerExport(dto('9007199254740993'))).toMatchObject({
      totalDebits: null,
      totalDebitsMinor: null,
    });
  });

  it('keeps null totals of an export that has not completed', () => {
    expect(toLedgerExport(dto(null))).toMatchObject({
      totalDebits: null,
      totalDebitsMinor: null,
      downloadPath: null,
      attempts: 1,
    });
  });
});
