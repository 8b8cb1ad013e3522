import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeStripeFault, FaultSlot } from './fake-stripe-faults';
import { FormObject, canonicalForm, parseForm } from './fake-stripe-form';
import { stripeId } from './fake-stripe-ids';
import { IdempotencyCache } from './fake-stripe-idempotency';
import { ParamError } from './fake-stripe-params';
import { TokenBucket } from './fake-stripe-rate-limit';
import { ApiResponse, apiError } from './fake-stripe-responses';
import { route } from './fake-stripe-routes';
import { FakeStripeStore } from './fake-stripe-store';

export const FAKE_STRIPE_API_VERSION = '2026-10-28.endive';
const BEARER = /^Bearer ((sk|rk)_test_[A-Za-z0-9]+)$/;

export interface FakeStripeServerOptions {
  readonly store: FakeStripeStore;
  readonly faults: FaultSlot;
  readonly rateLimitPerSec: number;
  /** When set, only this key is accepted; otherwise any well-formed test key. */
  readonly secretKey?: string;
}

interface Incoming {
  readonly method: string;
  readonly path: string;
  readonly form: FormObject;
  readonly key: string | undefined;
  readonly version: string;
}

/** The HTTP side of the fake: auth, rate limit, idempotency, faults, then the routes. */
export class FakeStripeServer {
  private server: Server | null = null;
  private port = 0;
  private readonly bucket: TokenBucket;
  private readonly idempotency = new IdempotencyCache();
  private readonly keyCounts = new Map<string, number>();
  requests = 0;
  rateLimited = 0;

  constructor(private readonly options: FakeStripeServerOptions) {
    this.bucket = new TokenBucket(options.rateLimitPerSec);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.onRequest(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections, so clients see ECONNREFUSED. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  async reopen(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  setRateLimit(perSec: number): void {
    this.bucket.setRate(perSec);
  }

  requestsByIdempotencyKey(key: string): number {
    return this.keyCounts.get(key) ?? 0;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const incoming = parseIncoming(req, raw);
    this.requests += 1;
    if (incoming.key) {
      this.keyCounts.set(incoming.key, this.requestsByIdempotencyKey(incoming.key) + 1);
    }
    const fault = this.options.faults.take(incoming.path);
    if (fault?.kind === 'dropBeforeProcessing') return void req.socket.destroy();
    const response = await this.answer(req, incoming, fault);
    if (fault?.kind === 'dropAfterProcessing') return void req.socket.destroy();
    send(res, incoming, response);
  }

  private async answer(
    req: IncomingMessage,
    incoming: Incoming,
    fault: FakeStripeFault | null,
  ): Promise<ApiResponse> {
    const refused = this.refuse(req);
    if (refused) return refused;
    const { key } = incoming;
    if (incoming.method !== 'POST' || !key) return this.execute(incoming, fault);
    const fingerprint = `${incoming.method} ${incoming.path} ${canonicalForm(incoming.form)}`;
    const found = this.idempotency.lookup(key, fingerprint);
    if (found.type === 'replay') return replayed(found.response);
    if (found.type === 'mismatch') return keyReused(key);
    if (found.type === 'in_progress') return keyInUse(key);
    this.idempotency.begin(key, fingerprint);
    const { response, saved } = await this.executeSaving(incoming, fault);
    if (saved) this.idempotency.complete(key, response);
    else this.idempotency.abandon(key);
    return response;
  }

  // Auth and rate limiting run before the idempotency layer, as at Stripe: never saved.
  private refuse(req: IncomingMessage): ApiResponse | null {
    const auth = BEARER.exec(req.headers.authorization ?? '');
    if (!auth || (this.options.secretKey && auth[1] !== this.options.secretKey)) {
      return apiError(401, {
        type: 'authentication_error',
        message: 'Invalid API Key provided.',
      });
    }
    const token = this.bucket.take();
    if (token.ok) return null;
    this.rateLimited += 1;
    return apiError(
      429,
      {
        type: 'invalid_request_error',
        code: 'rate_limit',
        message:
          'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
      },
      { 'Retry-After': String(Math.max(1, Math.ceil(token.retryAfterMs / 1000))) },
    );
  }

  private async execute(incoming: Incoming, fault: FakeStripeFault | null): Promise<ApiResponse> {
    return (await this.executeSaving(incoming, fault)).response;
  }

  /** Runs the endpoint; `saved` is false when Stripe would not keep the answer under the key. */
  private async executeSaving(
    incoming: Incoming,
    fault: FakeStripeFault | null,
  ): Promise<{ response: ApiResponse; saved: boolean }> {
    if (fault?.kind === 'latency') await sleep(fault.ms);
    if (fault?.kind === 'error500') {
      // Should-Retry true means nothing ran, so nothing is kept; otherwise the 500 is saved.
      return { response: serverError(fault.shouldRetry), saved: fault.shouldRetry !== true };
    }
    try {
      const { store } = this.options;
      return {
        response: route(store, incoming.method, incoming.path, incoming.form, this.baseUrl),
        saved: true,
      };
    } catch (error) {
      if (error instanceof ParamError) return { response: error.toResponse(), saved: false };
      throw error;
    }
  }
}

function parseIncoming(req: IncomingMessage, raw: string): Incoming {
  const url = new URL(req.url ?? '/', 'http://fake');
  const method = req.method ?? 'GET';
  const key = req.headers['idempotency-key'];
  const version = req.headers['stripe-version'];
  return {
    method,
    path: url.pathname,
    form: parseForm(method === 'GET' ? url.search.slice(1) : raw),
    key: typeof key === 'string' ? key : undefined,
    version: typeof version === 'string' ? version : FAKE_STRIPE_API_VERSION,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, incoming: Incoming, response: ApiResponse): void {
  if (res.destroyed) return;
  const body = JSON.stringify(response.body, null, 2);
  res.writeHead(response.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Request-Id': stripeId('req'),
    'Stripe-Version': incoming.version,
    ...(incoming.key ? { 'Idempotency-Key': incoming.key } : {}),
    ...response.headers,
  });
  res.end(body);
}

function replayed(response: ApiResponse): ApiResponse {
  return { ...response, headers: { ...response.headers, 'Idempotent-Replayed': 'true' } };
}

function keyReused(key: string): ApiResponse {
  return apiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

function keyInUse(key: string): ApiResponse {
  return apiError(409, {
    type: 'idempotency_error',
    message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
  });
}

function serverError(shouldRetry: boolean | undefined): ApiResponse {
  const headers: Record<string, string> =
    shouldRetry === undefined ? {} : { 'Stripe-Should-Retry': String(shouldRetry) };
  return apiError(
    500,
    { type: 'api_error', message: 'An unknown error occurred (fake Stripe fault).' },
    headers,
  );
}
