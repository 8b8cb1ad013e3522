import {
  CorrectionRefused,
  CorrectionSubject,
  correctionSourceId,
  postReconciliationCorrection,
  receivableDifference,
} from './correction-posting';

const AT = '2026-11-22T10:00:00.000Z';

function subject(extra: Partial<CorrectionSubject> = {}): CorrectionSubject {
  return {
    exceptionId: 'rex_01jexampleexampleexampleex',
    type: 'fee_mismatch',
    kind: 'charge',
    processor: 'stripe',
    currency: 'USD',
    paymentId: 'pay_01jexampleexampleexampleex',
    processorAmount: 2000,
    processorFee: 59,
    ledgerAmount: 2000,
    ledgerFee: 30,
    ...extra,
  };
}

const lines = (s: CorrectionSubject) =>
  postReconciliationCorrection(s, AT).lines.map(
    (l) => `${l.direction === 'debit' ? 'Dr' : 'Cr'} ${l.account.code} ${l.amount}`,
  );

describe('postReconciliationCorrection', () => {
  it('a fee the processor charged beyond the books: Dr suspense / Cr receivable, amount at stake', () => {
    const entry = postReconciliationCorrection(subject(), AT);
    expect(entry).toMatchObject({
      sourceEventId: 'rex_01jexampleexampleexampleex:correction',
      kind: 'reconciliation_correction',
      paymentId: 'pay_01jexampleexampleexampleex',
      status: 'posted',
      occurredAt: AT,
    });
    expect(lines(subject())).toEqual(['Dr suspense:USD 29', 'Cr receivable:stripe:USD 29']);
  });

  it('a processor amount above the books: Dr receivable / Cr suspense', () => {
    const s = subject({
      type: 'amount_mismatch',
      processorAmount: 2100,
      processorFee: 30,
    });
    expect(receivableDifference(s)).toBe(100);
    expect(lines(s)).toEqual(['Dr receivable:stripe:USD 100', 'Cr suspense:USD 100']);
  });

  it('a charge missing in the ledger raises the receivable by its net; one missing at the processor lowers it', () => {
    const missingInLedger = subject({
      type: 'missing_in_ledger',
      ledgerAmount: null,
      ledgerFee: null,
    });
    expect(lines(missingInLedger)).toEqual([
      'Dr receivable:stripe:USD 1941',
      'Cr suspense:USD 1941',
    ]);
    const missingAtProcessor = subject({
      type: 'missing_at_processor',
      processorAmount: null,
      processorFee: null,
      ledgerFee: 0,
    });
    expect(lines(missingAtProcessor)).toEqual([
      'Dr suspense:USD 2000',
      'Cr receivable:stripe:USD 2000',
    ]);
  });

  it('a refund the processor reports larger (more negative) than the books lowers the receivable', () => {
    const s = subject({
      type: 'amount_mismatch',
      kind: 'refund',
      processorAmount: -600,
      processorFee: 0,
      ledgerAmount: -500,
      ledgerFee: 0,
    });
    expect(lines(s)).toEqual(['Dr suspense:USD 100', 'Cr receivable:stripe:USD 100']);
  });

  it('balances: one debit and one credit of the same amount in the same currency', () => {
    const entry = postReconciliationCorrection(subject({ currency: 'JPY', processorFee: 37 }), AT);
    const debit = entry.lines.filter((l) => l.direction === 'debit');
    const credit = entry.lines.filter((l) => l.direction === 'credit');
    expect(debit).toHaveLength(1);
    expect(credit).toHaveLength(1);
    expect(debit[0].amount).toBe(credit[0].amount);
    expect(entry.lines.every((l) => l.account.currency === 'JPY')).toBe(true);
  });

  it('the source id is deterministic per exception', () => {
    expect(postReconciliationCorrection(subject(), AT).sourceEventId).toBe(
      postReconciliationCorrection(subject(), '2026-11-23T00:00:00.000Z').sourceEventId,
    );
    expect(correctionSourceId('rex_x')).toBe('rex_x:correction');
  });

  it.each([
    ['a duplicate', { type: 'duplicate' as const }],
    ['a currency mismatch', { type: 'currency_mismatch' as const }],
    ['a payout', { kind: 'payout' }],
    ['no difference on the receivable', { ledgerFee: 59 }],
  ])('refuses %s', (_what, extra) => {
    expect(() => postReconciliationCorrection(subject(extra), AT)).toThrow(CorrectionRefused);
  });
});
