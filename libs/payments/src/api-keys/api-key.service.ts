import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PaymentsError, newId } from '../../../domain/src';
import { ApiClient, Scope, isScope } from './scopes';

const KEY_PREFIX = 'gk_';

/** Keys are 256 random bits, so a fast hash is enough (no password stretching needed). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

interface CachedClient {
  readonly client: ApiClient | null;
  readonly expiresAt: number;
}

/** Creates, revokes and authenticates API keys. Only the hash is stored; the key is shown once. */
export class ApiKeyService {
  private readonly cache = new Map<string, CachedClient>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly cacheMs: number,
  ) {}

  async create(
    name: string,
    scopes: readonly string[],
  ): Promise<{ client: ApiClient; key: string }> {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
      throw PaymentsError.badInput(
        'name',
        'name must be 1-100 characters of letters, digits, . _ -',
      );
    }
    const unknown = scopes.filter((s) => !isScope(s));
    if (scopes.length === 0 || unknown.length > 0) {
      throw PaymentsError.badInput(
        'scopes',
        `unknown or missing scopes: ${unknown.join(', ') || '(none)'}`,
      );
    }
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    const client: ApiClient = { id: newId('cli'), name, scopes: [...new Set(scopes)] as Scope[] };
    const inserted = await this.dataSource.query(
      `INSERT INTO api_clients (id, name, key_hash, scopes) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO NOTHING RETURNING id`,
      [client.id, name, hashApiKey(key), client.scopes],
    );
    if (inserted.length === 0)
      throw PaymentsError.badInput('name', `an API client named "${name}" exists`);
    return { client, key };
  }

  async revoke(name: string): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows] = await this.dataSource.query(
      `UPDATE api_clients SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING id`,
      [name],
    );
    this.cache.clear();
    return rows.length > 0;
  }

  /** The client owning this key, or null when the key is unknown or revoked. Cached briefly. */
  async authenticate(key: string): Promise<ApiClient | null> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
    const hash = hashApiKey(key);
    const cached = this.cache.get(hash);
    if (cached && cached.expiresAt > Date.now()) return cached.client;
    const rows: { id: string; name: string; scopes: Scope[] }[] = await this.dataSource.query(
      `SELECT id, name, scopes FROM api_clients WHERE key_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    const client = rows[0] ? { id: rows[0].id, name: rows[0].name, scopes: rows[0].scopes } : null;
    if (this.cacheMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { client, expiresAt: Date.now() + this.cacheMs });
    }
    return client;
  }
}
