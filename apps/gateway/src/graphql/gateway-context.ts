import DataLoader from 'dataloader';
import { FastifyRequest } from 'fastify';
import {
  ApiClient,
  ApiKeyService,
  DisputeQueryService,
  DisputeView,
  PaymentAttemptView,
  PaymentQueryService,
  RefundView,
} from '../../../../libs/payments/src';

export interface Loaders {
  readonly attempts: DataLoader<string, PaymentAttemptView[]>;
  readonly refunds: DataLoader<string, RefundView[]>;
  readonly disputes: DataLoader<string, DisputeView[]>;
}

/** What every resolver sees: the authenticated client (or null) and per-request loaders. */
export interface GatewayContext {
  readonly client: ApiClient | null;
  readonly requestId: string;
  readonly loaders: Loaders;
}

/** `disputes` may be absent where nothing resolves them; its loader then answers no disputes. */
export function createLoaders(query: PaymentQueryService, disputes?: DisputeQueryService): Loaders {
  return {
    attempts: new DataLoader((ids: readonly string[]) => query.attemptsByPaymentIds(ids)),
    refunds: new DataLoader((ids: readonly string[]) => query.refundsByPaymentIds(ids)),
    disputes: new DataLoader(async (ids: readonly string[]) =>
      disputes ? disputes.disputesByPaymentIds(ids) : ids.map(() => []),
    ),
  };
}

export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1] : null;
}

export async function authenticate(
  apiKeys: ApiKeyService,
  header: unknown,
): Promise<ApiClient | null> {
  const token = bearerToken(header);
  return token ? apiKeys.authenticate(token) : null;
}

export function httpContext(
  apiKeys: ApiKeyService,
  query: PaymentQueryService,
  disputes?: DisputeQueryService,
) {
  return async (request: FastifyRequest): Promise<GatewayContext> => ({
    client: await authenticate(apiKeys, request.headers.authorization),
    requestId: String(request.id),
    loaders: createLoaders(query, disputes),
  });
}

/** graphql-ws connection_init payload: `{ authorization: "Bearer …" }` (or `Authorization`). */
export function subscriptionOnConnect(
  apiKeys: ApiKeyService,
  query: PaymentQueryService,
  disputes?: DisputeQueryService,
) {
  return async (data: { payload?: Record<string, unknown> }): Promise<GatewayContext> => {
    const payload = data.payload ?? {};
    const headers = (payload.headers ?? {}) as Record<string, unknown>;
    const header =
      payload.authorization ??
      payload.Authorization ??
      headers.authorization ??
      headers.Authorization;
    return {
      client: await authenticate(apiKeys, header),
      requestId: 'ws',
      loaders: createLoaders(query, disputes),
    };
  };
}
