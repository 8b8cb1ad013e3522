import { holdAdvisoryLock } from '../../libs/persistence/src';
import { TestDatabase, createTestDatabase } from '../support/database';

/**
 * Session advisory locks held for long work (migrations, batch reconciliation runs): a second
 * taker waits for the first however long it runs, beyond the pool's 5 s lock_timeout.
 */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const KEY = 42_4242;

describe('holdAdvisoryLock', () => {
  it('waits longer than the pool lock_timeout for the holder, then takes the lock', async () => {
    const [{ lock_timeout }] = (await db.dataSource.query('SHOW lock_timeout')) as {
      lock_timeout: string;
    }[];
    expect(lock_timeout).toBe('5s');
    const releaseFirst = await holdAdvisoryLock(db.dataSource, KEY);
    let second: (() => Promise<void>) | 'failed' | undefined;
    const waiting = holdAdvisoryLock(db.dataSource, KEY).then(
      (release) => (second = release),
      () => (second = 'failed'),
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 5_600));
      expect(second).toBeUndefined();
    } finally {
      await releaseFirst();
      await waiting;
    }
    if (typeof second !== 'function') throw new Error(`second taker: ${String(second)}`);
    const held = (await db.dataSource.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted`,
      [KEY],
    )) as { n: number }[];
    expect(held[0].n).toBe(1);
    await second();
    const after = (await db.dataSource.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1`,
      [KEY],
    )) as { n: number }[];
    expect(after[0].n).toBe(0);
  }, 20_000);

  it('gives connections back to the pool with the pool timeouts restored', async () => {
    const releases = await Promise.all(
      Array.from({ length: 10 }, (_, i) => holdAdvisoryLock(db.dataSource, KEY + 1 + i)),
    );
    await Promise.all(releases.map((release) => release()));
    const rows = await Promise.all(
      Array.from({ length: 10 }, () => db.dataSource.query('SHOW lock_timeout')),
    );
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    try {
      expect(await runner.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '30s' }]);
      expect(await runner.query('SHOW lock_timeout')).toEqual([{ lock_timeout: '5s' }]);
    } finally {
      await runner.release();
    }
    expect(rows.every((r) => (r as { lock_timeout: string }[])[0].lock_timeout === '5s')).toBe(
      true,
    );
  });
});
