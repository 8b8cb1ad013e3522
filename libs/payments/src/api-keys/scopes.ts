export const SCOPES = [
  'payments:read',
  'payments:write',
  'refunds:write',
  'ledger:read',
  'ledger:export',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** The caller of the API, resolved from its bearer key. */
export interface ApiClient {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
}

export function isAdmin(client: ApiClient): boolean {
  return client.scopes.includes('admin');
}

/** `admin` implies every scope. */
export function hasScope(client: ApiClient, scope: Scope): boolean {
  return client.scopes.includes(scope) || isAdmin(client);
}
