import { LedgerQueryRejected } from '../ledger-queries';
import {
  decodeExceptionCursor,
  encodeExceptionCursor,
  exceptionsRequest,
  parseReconciliationRequest,
  resolveRequest,
  summaryRequest,
} from './exception-contract';

const ID = 'rex_01jexampleexampleexampleex';

function refusal(fn: () => unknown): LedgerQueryRejected {
  try {
    fn();
  } catch (error) {
    if (error instanceof LedgerQueryRejected) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('reconciliation request validation', () => {
  const resolve = (extra: Record<string, unknown>) =>
    parseReconciliationRequest(resolveRequest, {
      id: ID,
      resolution: 'resolved',
      reason: 'fee schedule changed',
      actor: 'cli_1',
      ...extra,
    });

  it('accepts a resolution, trims the reason, and defaults postCorrection to false', () => {
    expect(resolve({ reason: '  fee schedule changed ' })).toEqual({
      id: ID,
      resolution: 'resolved',
      reason: 'fee schedule changed',
      postCorrection: false,
      actor: 'cli_1',
    });
  });

  it.each([
    ['reason', { reason: '   ' }],
    ['reason', { reason: 'x'.repeat(1001) }],
    ['reason', { reason: undefined }],
    ['id', { id: 'pay_01jexampleexampleexampleex' }],
    ['resolution', { resolution: 'deleted' }],
    ['postCorrection', { resolution: 'ignored', postCorrection: true }],
    ['postCorrection', { postCorrection: 'yes' }],
  ])('refuses a bad %s as BAD_USER_INPUT naming the field', (field, extra) => {
    const error = refusal(() => resolve(extra));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe(field);
  });

  it('refuses a period that does not move forward and an unknown currency', () => {
    const period = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };
    expect(parseReconciliationRequest(summaryRequest, { ...period, currency: 'usd' })).toEqual({
      ...period,
      currency: 'USD',
    });
    expect(
      refusal(() => parseReconciliationRequest(summaryRequest, { ...period, to: period.from }))
        .field,
    ).toBe('from');
    expect(
      refusal(() => parseReconciliationRequest(summaryRequest, { ...period, currency: 'XXX' }))
        .field,
    ).toBe('currency');
  });

  it('bounds the page size and names filter fields without the filter prefix', () => {
    expect(parseReconciliationRequest(exceptionsRequest, {})).toEqual({ filter: {}, first: 20 });
    expect(refusal(() => parseReconciliationRequest(exceptionsRequest, { first: 101 })).field).toBe(
      'first',
    );
    expect(
      refusal(() => parseReconciliationRequest(exceptionsRequest, { filter: { type: 'matched' } }))
        .field,
    ).toBe('type');
  });

  it('cursors round-trip and reject anything else', () => {
    const openedAt = '2026-11-22T10:00:00.123456Z';
    expect(decodeExceptionCursor(encodeExceptionCursor(openedAt, ID))).toEqual({
      openedAt,
      id: ID,
    });
    expect(decodeExceptionCursor('bm90LWEtY3Vyc29y')).toBeNull();
    expect(decodeExceptionCursor(encodeExceptionCursor('2026-11-22', ID))).toBeNull();
  });
});
