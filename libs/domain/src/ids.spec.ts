import { hasPrefix, newId, randomHex, ulid } from './ids';

const CROCKFORD = /^[0-9abcdefghjkmnpqrstvwxyz]{26}$/;

describe('ids', () => {
  it('encodes the time as a ULID does (the specification example)', () => {
    expect(ulid(1469918176385).slice(0, 10)).toBe('01aryz6s41'); // ulid's README: 01ARYZ6S41…;
    expect(ulid(Date.now())).toMatch(CROCKFORD);
  });

  it('is strictly increasing, within a millisecond and when the clock goes back', () => {
    const ids = [ulid(1_800_000_000_000), ulid(1_800_000_000_000), ulid(1_799_999_999_000)];
    ids.push(ulid(1_800_000_000_001));
    for (let i = 1; i < ids.length; i += 1) expect(ids[i] > ids[i - 1]).toBe(true);
    expect(ids[2].slice(0, 10)).toBe(ids[0].slice(0, 10)); // the later time is kept
  });

  it('draws every digit of the random part (no bias to a subset)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i += 1) {
      for (const c of ulid(1_900_000_000_000 + i * 10).slice(10)) seen.add(c);
    }
    expect(seen.size).toBe(32);
  });

  it('refuses a time it cannot encode', () => {
    expect(() => ulid(-1)).toThrow(RangeError);
    expect(() => ulid(2 ** 48)).toThrow(RangeError);
  });

  it('prefixes ids and recognises them', () => {
    const id = newId('pay');
    expect(id).toMatch(/^pay_[0-9a-z]{26}$/);
    expect(hasPrefix(id, 'pay')).toBe(true);
    expect(hasPrefix(id, 'att')).toBe(false);
  });

  it('draws random hex of the asked length, different each time', () => {
    const a = randomHex(12);
    expect(a).toMatch(/^[0-9a-f]{24}$/);
    expect(new Set(Array.from({ length: 600 }, () => randomHex(12))).size).toBe(600);
    expect(() => randomHex(0)).toThrow(RangeError);
  });
});
