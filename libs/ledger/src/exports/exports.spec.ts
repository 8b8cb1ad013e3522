import fc from 'fast-check';
import { formatMinorUnits, parseDecimal } from './amounts';
import { csvRow, parseCsv } from './csv';
import { quickbooksJournalNo } from './formats';
import { DEFAULT_EXPORT_MAPPING, formatDate, parseExportMapping, resolveAccount } from './mapping';

describe('formatMinorUnits', () => {
  it('uses the currency exponent with integer arithmetic only', () => {
    expect(formatMinorUnits(5000, 0)).toBe('5000'); // JPY
    expect(formatMinorUnits('30', 2)).toBe('0.30'); // never 0.30000000000000004
    expect(formatMinorUnits(5, 2)).toBe('0.05');
    expect(formatMinorUnits(12_345, 3)).toBe('12.345'); // KWD
    expect(formatMinorUnits(1, 3)).toBe('0.001');
    expect(formatMinorUnits(0, 2)).toBe('0.00');
    expect(formatMinorUnits(-1999, 2)).toBe('-19.99');
    expect(formatMinorUnits(9_007_199_254_740_993n, 2)).toBe('90071992547409.93'); // > 2^53
    expect(formatMinorUnits('000120', 2)).toBe('1.20');
  });

  it('refuses what is not an integer of minor units', () => {
    expect(() => formatMinorUnits(0.1, 2)).toThrow(/safe integer/);
    expect(() => formatMinorUnits('1.5', 2)).toThrow(/integer/);
    expect(() => formatMinorUnits(1, -1)).toThrow(/exponent/);
  });

  it('round-trips through parseDecimal for any amount and exponent', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.constantFrom(0, 2, 3, 4),
        (n, e) => {
          const text = formatMinorUnits(n, e);
          expect(text).not.toMatch(/e|,/);
          expect(parseDecimal(text, e)).toBe(n);
        },
      ),
    );
  });

  it('parseDecimal insists on the exponent', () => {
    expect(() => parseDecimal('1.5', 2)).toThrow(/has 1 decimals/);
    expect(() => parseDecimal('15.00', 0)).toThrow(/has 2 decimals/);
  });
});

describe('RFC 4180', () => {
  it('quotes fields with commas, quotes and line breaks, doubling quotes; rows end in CRLF', () => {
    expect(csvRow(['a', 'b,c', 'say "hi"', 'x\ny', 'r\rs', '', null, 7])).toBe(
      'a,"b,c","say ""hi""","x\ny","r\rs",,,7\r\n',
    );
  });

  it('reads back what it writes', () => {
    fc.assert(
      fc.property(
        fc
          .array(
            fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', 'é', ' ') }), {
              minLength: 1,
              maxLength: 5,
            }),
            { minLength: 1, maxLength: 5 },
          )
          .filter((rows) => rows.every((r) => r.length > 1 || r[0] !== '')),
        (rows) => {
          expect(parseCsv(rows.map(csvRow).join(''))).toEqual(rows);
        },
      ),
    );
  });
});

describe('mapping', () => {
  it('maps every chart template by default, per processor where the chart is', () => {
    const account = { code: 'fees:stripe:EUR', currency: 'EUR', processor: 'stripe' };
    expect(resolveAccount(DEFAULT_EXPORT_MAPPING.netsuite, account)).toEqual({
      account: '6120',
      name: '',
    });
    expect(resolveAccount(DEFAULT_EXPORT_MAPPING.quickbooks, account)).toEqual({
      account: 'Payment Processing Fees:stripe',
      name: '',
    });
    expect(
      resolveAccount(DEFAULT_EXPORT_MAPPING.netsuite, {
        code: 'unknown:X',
        currency: 'USD',
        processor: null,
      }),
    ).toBeNull();
  });

  it('prefers an exact account code to its template, and fills placeholders', () => {
    const mapping = parseExportMapping({
      netsuite: {
        accounts: {
          receivable: { account: '1200-{currency}' },
          'receivable:stripe:USD': { account: '1201', name: 'Stripe {processor}' },
        },
      },
      quickbooks: { accounts: {} },
    });
    expect(mapping.netsuite.dateFormat).toBe('MM/DD/YYYY');
    const ref = (code: string) => ({ code, currency: 'USD', processor: 'stripe' });
    expect(resolveAccount(mapping.netsuite, ref('receivable:stripe:USD'))).toEqual({
      account: '1201',
      name: 'Stripe stripe',
    });
    expect(resolveAccount(mapping.netsuite, ref('receivable:adyen:USD'))).toEqual({
      account: '1200-USD',
      name: '',
    });
  });

  it('refuses unknown keys and date formats', () => {
    expect(() =>
      parseExportMapping({ netsuite: { accounts: {} }, quickbooks: { accounts: {} }, x: 1 }),
    ).toThrow(/Unrecognized key/);
    expect(() =>
      parseExportMapping({
        netsuite: { accounts: {} },
        quickbooks: { dateFormat: 'M/D/YY', accounts: {} },
      }),
    ).toThrow(/quickbooks.dateFormat/);
  });

  it('formats dates', () => {
    expect(formatDate('2026-03-07', 'MM/DD/YYYY')).toBe('03/07/2026');
    expect(formatDate('2026-03-07', 'DD/MM/YYYY')).toBe('07/03/2026');
    expect(formatDate('2026-03-07', 'YYYY-MM-DD')).toBe('2026-03-07');
  });
});

it('QuickBooks journal numbers are deterministic, 21 characters, distinct per entry', () => {
  const a = quickbooksJournalNo('je_01m80bd5wtpw789ew5df2evxxv');
  expect(a).toBe(quickbooksJournalNo('je_01m80bd5wtpw789ew5df2evxxv'));
  expect(a).toHaveLength(21);
  expect(quickbooksJournalNo('je_01m80bd5wtpw789ew5df2evxxw')).not.toBe(a);
});
