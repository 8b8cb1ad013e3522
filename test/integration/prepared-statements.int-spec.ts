import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import {
  createDataSource,
  preparedName,
  preparedSql,
  registeredStatements,
} from '../../libs/persistence/src';
// Every module that registers statements, so that the policy test below sees all of them.
import '../../libs/messaging/src';
import '../../libs/payments/src';
import '../../apps/worker/src/processor-adapters.provider';
import { TestDatabase, createTestDatabase } from '../support/database';

/** Registered hot-path statements are prepared once per connection; others are not. */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const REGISTERED = preparedSql(`SELECT id, name FROM api_clients WHERE id = $1 AND 1 = $2::int`);
const UNREGISTERED = `SELECT id, name FROM api_clients WHERE name = $1 AND 2 = $2::int`;

async function preparedOn(runner: PostgresQueryRunner): Promise<string[]> {
  const rows = (await runner.query(`SELECT name FROM pg_prepared_statements`)) as {
    name: string;
  }[];
  return rows.map((r) => r.name);
}

describe('prepared statements (PreparingClient)', () => {
  it('prepares a registered statement once per connection and answers it like any query', async () => {
    await db.dataSource.query(
      `INSERT INTO api_clients (id, name, key_hash, scopes) VALUES ('cli_p', 'prep', 'h', '{}')`,
    );
    const runner = db.dataSource.createQueryRunner() as PostgresQueryRunner;
    await runner.connect();
    try {
      const name = preparedName(REGISTERED)!;
      expect(name).toMatch(/^pgw_[0-9a-f]{16}$/);
      expect(await runner.query(REGISTERED, ['cli_p', 1])).toEqual([{ id: 'cli_p', name: 'prep' }]);
      expect(await runner.query(REGISTERED, ['cli_none', 1])).toEqual([]);
      expect(await runner.query(UNREGISTERED, ['prep', 2])).toEqual([
        { id: 'cli_p', name: 'prep' },
      ]);
      const names = await preparedOn(runner);
      expect(names.filter((n) => n === name)).toHaveLength(1);
      expect(names.some((n) => n !== name)).toBe(false);
      expect(preparedName(UNREGISTERED)).toBeUndefined();
    } finally {
      await runner.release();
    }
  });

  it('keeps working after a failed statement and a rollback on the same connection', async () => {
    const runner = db.dataSource.createQueryRunner() as PostgresQueryRunner;
    await runner.connect();
    try {
      await runner.startTransaction();
      await expect(runner.query(REGISTERED, ['cli_p', 'not a number'])).rejects.toThrow(
        /invalid input syntax/,
      );
      await runner.rollbackTransaction();
      expect(await runner.query(REGISTERED, ['cli_p', 1])).toHaveLength(1);
      await runner.startTransaction();
      expect(await runner.query(REGISTERED, ['cli_p', 1])).toHaveLength(1);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
  });

  it('prepares nothing when turned off (DB_PREPARED_STATEMENTS=off, e.g. behind PgBouncer)', async () => {
    const plain = createDataSource({ url: db.url, poolSize: 2, preparedStatements: false });
    await plain.initialize();
    const runner = plain.createQueryRunner() as PostgresQueryRunner;
    await runner.connect();
    try {
      expect(await runner.query(REGISTERED, ['cli_p', 1])).toHaveLength(1);
      expect(await preparedOn(runner)).toEqual([]);
    } finally {
      await runner.release();
      await plain.destroy();
    }
  });

  it('never prepares a statement that reads a table by an array of keys (its cached plan would be made on a small table)', () => {
    const texts = registeredStatements();
    // the hot inserts stay registered (their plans read no table), so the list is not empty
    expect(texts.some((t) => /INSERT INTO webhook_events/.test(t))).toBe(true);
    expect(texts.some((t) => /INSERT INTO idempotency_keys/.test(t))).toBe(true);
    const byArray = texts.filter((t) => /=\s*ANY\s*\(\s*\$\d/i.test(t));
    expect(byArray).toEqual([]);
  });

  it('registering the same text twice keeps one name', () => {
    const text = `SELECT 1 WHERE $1::int = 1`;
    preparedSql(text);
    const first = preparedName(text);
    preparedSql(text);
    expect(preparedName(text)).toBe(first);
  });
});
