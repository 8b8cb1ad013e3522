import { requestHash } from './request-hash';

describe('requestHash', () => {
  it('ignores key order and undefined fields', () => {
    expect(requestHash('op', { a: 1, b: { c: 2, d: 3 } })).toBe(
      requestHash('op', { b: { d: 3, c: 2 }, a: 1, e: undefined }),
    );
  });

  it('differs by operation and by any value', () => {
    expect(requestHash('a', { x: 1 })).not.toBe(requestHash('b', { x: 1 }));
    expect(requestHash('a', { x: 1 })).not.toBe(requestHash('a', { x: 2 }));
    expect(requestHash('a', { x: null })).not.toBe(requestHash('a', {}));
  });
});
