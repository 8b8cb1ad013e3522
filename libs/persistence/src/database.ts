import { Client, types } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { PreparingClient } from './prepared-statements';

// bigint columns hold minor units; they stay far below 2^53, so read them as numbers and
// refuse (rather than round) anything that is not a safe integer.
types.setTypeParser(20, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new Error(`int8 value ${value} exceeds the safe integer range`);
  return n;
});

const MIGRATION_LOCK_ID = 73_011_984;

export interface DatabaseOptions {
  readonly url: string;
  readonly poolSize: number;
  readonly applicationName?: string;
  /** Registered hot-path statements prepared per connection (default on; DB_PREPARED_STATEMENTS). */
  readonly preparedStatements?: boolean;
}

export function createDataSource(options: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
    extra: {
      // registered hot-path statements are prepared once per connection (prepared-statements.ts)
      ...(options.preparedStatements === false ? {} : { Client: PreparingClient }),
      // runMigrations holds one connection for its lock while migrating on another.
      max: Math.max(2, options.poolSize),
      application_name: options.applicationName ?? 'payment-gateway',
      // A duplicate request waiting on a locked idempotency key gives up after 5 s (KEY_IN_USE).
      lock_timeout: 5000,
      statement_timeout: 30_000,
    },
  });
}

/** Creates the database named in the URL when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" is not allowed`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** Runs pending migrations under an advisory lock so several processes can start at once. */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  const release = await holdAdvisoryLock(dataSource, MIGRATION_LOCK_ID);
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await release();
  }
}

/**
 * Waits however long it takes for a session advisory lock, then holds it on a connection of its
 * own until the returned function is called (or the connection drops). The pool's
 * `lock_timeout` and `statement_timeout` bound ordinary statements; here the holder of the lock
 * may legitimately run for minutes (migrations, a batch reconciliation), so both are lifted for
 * this connection only and restored before it goes back to the pool.
 */
export async function holdAdvisoryLock(
  dataSource: DataSource,
  key: number,
): Promise<() => Promise<void>> {
  const holder = dataSource.createQueryRunner();
  await holder.connect();
  const restore = async () => {
    await holder.query('RESET lock_timeout').catch(() => undefined);
    await holder.query('RESET statement_timeout').catch(() => undefined);
    await holder.release();
  };
  try {
    await holder.query('SET lock_timeout = 0');
    await holder.query('SET statement_timeout = 0');
    await holder.query('SELECT pg_advisory_lock($1)', [key]);
  } catch (error) {
    await restore();
    throw error;
  }
  return async () => {
    await holder.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
    await restore();
  };
}

/** Anything that can run a parameterised query: the DataSource or a transaction's manager. */
export type Sql = Pick<EntityManager, 'query'>;

export function inTransaction<T>(
  dataSource: DataSource,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(work);
}
