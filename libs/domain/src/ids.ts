import { randomFillSync } from 'node:crypto';

/**
 * `dsp` = our dispute, `pyo` = our payout (Stripe's own payout ids start with `po_`), `rex` = a
 * reconciliation exception (generated in SQL by `reconciliation_new_id('rex')`, same shape).
 */
export type IdPrefix =
  'pay' | 'att' | 'ref' | 'obx' | 'cli' | 'gpm' | 'evt' | 'je' | 'dsp' | 'pyo' | 'rex';

/** Crockford's base 32, lower case (the ids have always been lower-cased ULIDs). */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const MAX_TIME = 2 ** 48 - 1;

/**
 * Random bytes are drawn from the OS in 4 KiB blocks: the `ulid` package asked the OS for one
 * byte per character (16 calls per id), which was ~8 % of the gateway's CPU under load.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** The offset of `bytes` fresh random bytes in the pool, refilling it when it runs out. */
function takeRandom(bytes: number): number {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += bytes;
  return start;
}

function randomDigits(): number[] {
  const start = takeRandom(RANDOM_CHARS);
  // 256 is a multiple of 32: the low five bits of a uniform byte are a uniform digit.
  return Array.from({ length: RANDOM_CHARS }, (_, i) => pool[start + i] & 31);
}

/**
 * `bytes` random bytes as hex, from the same pooled block (a synchronous `crypto.randomBytes`
 * per call cost ~30 µs: 2.5 % of the worker, for the simulator's references).
 */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 64) {
    throw new RangeError('randomHex: 1 to 64 bytes');
  }
  const start = takeRandom(bytes);
  return pool.toString('hex', start, start + bytes);
}

let lastTime = -1;
let lastRandom: number[] = [];

/** Adds one to a base-32 number (most significant digit first). */
function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i -= 1) {
    if (next[i] < 31) {
      next[i] += 1;
      return next;
    }
    next[i] = 0;
  }
  throw new Error('id space of this millisecond exhausted');
}

/**
 * A monotonic ULID (48-bit millisecond time, 80 random bits), lower case: within one
 * millisecond, or if the clock goes back, the previous id's random part plus one, so the ids
 * of a process are strictly increasing (as the `ulid` package's monotonic factory did).
 */
export function ulid(now: number = Date.now()): string {
  if (!Number.isSafeInteger(now) || now < 0 || now > MAX_TIME) {
    throw new RangeError(`time ${now} cannot be encoded in an id`);
  }
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = randomDigits();
  }
  let time = '';
  let t = lastTime;
  for (let i = 0; i < TIME_CHARS; i += 1) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  for (const d of lastRandom) random += ALPHABET[d];
  return time + random;
}

/** Prefixed, time-sortable identifiers (`pay_01j…`), generated in the application. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return id.startsWith(`${prefix}_`) && id.length === prefix.length + 27;
}
