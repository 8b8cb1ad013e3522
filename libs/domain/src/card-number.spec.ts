import fc from 'fast-check';
import { findCardNumber, isLuhnValid } from './card-number';

describe('card number detection', () => {
  it.each([
    ['4242424242424242'],
    ['4242 4242 4242 4242'],
    ['4242-4242-4242-4242'],
    ['5555555555554444'],
    ['378282246310005'], // Amex, 15 digits
    ['6011111111111117'],
    ['4222222222222'], // 13 digits
  ])('finds the test card %s', (pan) => {
    expect(findCardNumber({ note: `card ${pan} thanks` })).toBe('note');
  });

  it.each([
    ['4242424242424241'], // Luhn-invalid
    ['424242424242'], // 12 digits
    ['42424242424242424242'], // 20 digits: an order number, not a card
    ['order 12345'],
    ['pay_01m807g7bx497w8mwgz3pzn4k1'],
    ['ref-4242424242424242'], // part of an identifier
    ['4242424242424242abc'],
  ])('does not flag %s', (text) => {
    expect(findCardNumber({ note: text })).toBeNull();
  });

  it('never reads a UUID or a hex id as a card (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.stringMatching(/^[0-9a-f]{32}$/), (uuid, hex) => {
        expect(findCardNumber({ key: uuid, id: hex, both: `${uuid} ${hex}` })).toBeNull();
      }),
      { numRuns: 20_000 },
    );
    expect(findCardNumber({ key: '18ce5801-61b7-4037-8910-0475f5334d16' })).toBeNull();
  });

  it('finds a card among other words and punctuation (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('4242424242424242', '4242 4242 4242 4242', '3782-822463-10005'),
        fc.constantFrom(' ', ': ', '(', '\n'),
        (pan, sep) => {
          expect(findCardNumber({ note: `pay${sep}${pan}${sep === '(' ? ')' : sep}ok` })).toBe(
            'note',
          );
        },
      ),
    );
  });

  it('reports the path of nested fields, keys and array items', () => {
    expect(findCardNumber({ a: { b: ['x', '4242424242424242'] } })).toBe('a.b[1]');
    expect(findCardNumber({ metadata: { '4242424242424242': 'x' } })).toBe(
      'metadata.4242424242424242',
    );
    expect(findCardNumber('4242424242424242')).toBe('');
  });

  it('accepts every Luhn check digit exactly once per prefix (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 12, maxLength: 18 }),
        (digits) => {
          const prefix = digits.join('');
          const valid = Array.from({ length: 10 }, (_, d) => `${prefix}${d}`).filter(isLuhnValid);
          expect(valid).toHaveLength(1);
        },
      ),
    );
  });
});
