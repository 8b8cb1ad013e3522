import { ApiResponse } from './fake-stripe-responses';

type Entry = { readonly fingerprint: string; response: ApiResponse | null };

export type IdempotencyLookup =
  | { readonly type: 'new' }
  | { readonly type: 'replay'; readonly response: ApiResponse }
  | { readonly type: 'mismatch' }
  | { readonly type: 'in_progress' };

/**
 * Stripe's v1 idempotency layer: a key saves the first response once an endpoint began to run;
 * the same key and parameters replay it, other parameters are refused, and a key still running
 * answers 409. Nothing is saved for requests refused before execution (auth, rate limit,
 * parameter validation).
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();

  lookup(key: string, fingerprint: string): IdempotencyLookup {
    const entry = this.entries.get(key);
    if (!entry) return { type: 'new' };
    if (entry.fingerprint !== fingerprint) return { type: 'mismatch' };
    return entry.response ? { type: 'replay', response: entry.response } : { type: 'in_progress' };
  }

  begin(key: string, fingerprint: string): void {
    this.entries.set(key, { fingerprint, response: null });
  }

  complete(key: string, response: ApiResponse): void {
    const entry = this.entries.get(key);
    if (entry) entry.response = structuredClone(response);
  }

  abandon(key: string): void {
    if (this.entries.get(key)?.response === null) this.entries.delete(key);
  }
}
