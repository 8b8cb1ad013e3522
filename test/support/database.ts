import { DataSource } from 'typeorm';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { createDataSource, ensureDatabase, runMigrations } from '../../libs/persistence/src';

export const TEST_PG_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly dataSource: DataSource;
  drop(): Promise<void>;
}

/** A uniquely named lower-case token for databases and NATS namespaces of one test file. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Creates an isolated, migrated database for one test file; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName('pgw_test_');
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  const dataSource = createDataSource({
    url: url.toString(),
    poolSize: 10,
    applicationName: 'jest',
  });
  await dataSource.initialize();
  await runMigrations(dataSource);
  return {
    name,
    url: url.toString(),
    dataSource,
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await dropDatabase(name);
    },
  };
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
