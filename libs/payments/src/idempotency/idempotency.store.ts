import { DataSource, EntityManager } from 'typeorm';
import { PaymentsError } from '../../../domain/src';

export interface IdempotencyScope {
  readonly clientId: string;
  readonly key: string;
  readonly operation: string;
  readonly requestHash: string;
}

interface StoredRecord {
  operation: string;
  request_hash: string;
  response: unknown;
}

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Client idempotency (DESIGN.md §5.1). The key is claimed, the work done and the response
 * stored in ONE transaction: a concurrent duplicate waits on the key's row, then replays the
 * committed response. If the work fails, everything (the claim too) rolls back.
 */
export class IdempotencyStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ttlHours: number,
  ) {}

  /** The stored response for this key, or throws when the key was used for another request. */
  replayOf(record: StoredRecord, scope: IdempotencyScope): unknown {
    if (record.operation !== scope.operation || record.request_hash !== scope.requestHash) {
      throw new PaymentsError(
        'IDEMPOTENCY_KEY_REUSED',
        'this idempotencyKey was already used with a different request',
        'idempotencyKey',
      );
    }
    return record.response;
  }

  async find(
    scope: IdempotencyScope,
    sql: Pick<EntityManager, 'query'> = this.dataSource,
  ): Promise<StoredRecord | null> {
    const rows: StoredRecord[] = await sql.query(
      `SELECT operation, request_hash, response FROM idempotency_keys WHERE client_id = $1 AND key = $2`,
      [scope.clientId, scope.key],
    );
    return rows[0] ?? null;
  }

  /** Runs `work` once per key; replays return the stored response as `{ replayed: true }`. */
  async run<T>(
    scope: IdempotencyScope,
    work: (tx: EntityManager) => Promise<{ resourceId: string; response: T }>,
  ): Promise<{ response: T; replayed: boolean }> {
    return translateLockTimeout(() =>
      this.dataSource.transaction(async (tx) => {
        const claimed = await tx.query(
          `INSERT INTO idempotency_keys (client_id, key, operation, request_hash, resource_id, response, expires_at)
           VALUES ($1, $2, $3, $4, '', 'null'::jsonb, now() + make_interval(hours => $5))
           ON CONFLICT (client_id, key) DO NOTHING RETURNING key`,
          [scope.clientId, scope.key, scope.operation, scope.requestHash, this.ttlHours],
        );
        if (claimed.length === 0) {
          const existing = await this.find(scope, tx);
          if (!existing)
            throw new PaymentsError('IDEMPOTENCY_KEY_IN_USE', 'request with this key in progress');
          return { response: this.replayOf(existing, scope) as T, replayed: true };
        }
        const { resourceId, response } = await work(tx);
        await tx.query(
          `UPDATE idempotency_keys SET resource_id = $3, response = $4 WHERE client_id = $1 AND key = $2`,
          [scope.clientId, scope.key, resourceId, JSON.stringify(response)],
        );
        return { response, replayed: false };
      }),
    );
  }
}

/** A duplicate that waited longer than lock_timeout for the first request gets IN_USE. */
export async function translateLockTimeout<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) {
      throw new PaymentsError(
        'IDEMPOTENCY_KEY_IN_USE',
        'a request with this idempotencyKey is still in progress; retry shortly',
        'idempotencyKey',
      );
    }
    throw error;
  }
}
