// Tiny GraphQL clients for the e2e suites: HTTP (global fetch), a poller, and graphql-ws.
import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface GqlError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: {
    readonly code?: string;
    readonly field?: string;
    readonly [key: string]: unknown;
  };
}

export interface GqlBody<T = Record<string, unknown>> {
  readonly data?: T | null;
  readonly errors?: readonly GqlError[];
}

export interface GqlResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: GqlBody<T>;
  /** The raw response text (for byte-for-byte comparisons). */
  readonly text: string;
}

/** POSTs one GraphQL operation; `key` null sends no Authorization header. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  key: string | null,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GqlResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: GqlBody<T>;
  try {
    body = JSON.parse(text) as GqlBody<T>;
  } catch {
    body = { errors: [{ message: `non-JSON response: ${text.slice(0, 200)}` }] };
  }
  return { status: response.status, body, text };
}

/** The data of a response that must have succeeded, or a readable failure. */
export function dataOf<T>(response: GqlResponse<T>): T {
  if (response.body.errors?.length || !response.body.data) {
    throw new Error(
      `GraphQL call failed (HTTP ${response.status}): ${response.text.slice(0, 1000)}`,
    );
  }
  return response.body.data;
}

/** `extensions.code` of every error of a response. */
export function errorCodes(response: GqlResponse<unknown>): (string | undefined)[] {
  return (response.body.errors ?? []).map((e) => e.extensions?.code);
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Describes what was awaited, for the timeout message. */
  readonly what?: string;
  /** Extra context appended to the timeout message (e.g. the apps' last log lines). */
  readonly context?: () => string;
}

/**
 * Calls `fn` until it returns something other than undefined/null/false, and returns that.
 * A throw inside `fn` counts as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      last = value;
      if (value !== undefined && value !== null && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const detail = lastError
    ? `last error: ${(lastError as Error).message}`
    : `last value: ${JSON.stringify(last)}`;
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'} (${detail})` +
      (options.context ? `\n--- context ---\n${options.context()}` : ''),
  );
}

export interface SubscriptionEvents<T> {
  /** Every `next` payload received so far. */
  readonly values: { data?: T | null; errors?: readonly GqlError[] }[];
  /** Errors the server sent as an `error` message, or a close, if any. */
  readonly errors: unknown[];
  /** Resolves when the subscription completes or fails. */
  readonly done: Promise<void>;
  /** Resolves when a received value satisfies the predicate (rejects on timeout). */
  until(
    predicate: (value: { data?: T | null; errors?: readonly GqlError[] }) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  close(): Promise<void>;
}

/** A graphql-ws (graphql-transport-ws) client authenticating with `authorization: Bearer KEY`. */
export function wsClient(wsUrl: string, key: string | null): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: key === null ? {} : { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: true,
  });
}

/** Subscribes and collects events until closed. */
export function subscribe<T = Record<string, unknown>>(
  wsUrl: string,
  key: string | null,
  query: string,
  variables?: Record<string, unknown>,
): SubscriptionEvents<T> {
  const client = wsClient(wsUrl, key);
  const values: { data?: T | null; errors?: readonly GqlError[] }[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  let unsubscribe: () => void = () => undefined;
  let finished = false;
  const done = new Promise<void>((resolve) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          values.push(value as { data?: T | null; errors?: readonly GqlError[] });
          notify();
        },
        error: (error) => {
          errors.push(error);
          finished = true;
          notify();
          resolve();
        },
        complete: () => {
          finished = true;
          notify();
          resolve();
        },
      },
    );
  });
  return {
    values,
    errors,
    done,
    until: (predicate, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (values.some(predicate)) {
            cleanup();
            resolve();
          } else if (finished) {
            cleanup();
            reject(
              new Error(
                `subscription ended first; values: ${JSON.stringify(values)} errors: ${JSON.stringify(errors.map(String))}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `subscription: no matching value within ${timeoutMs} ms; got ${JSON.stringify(values)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    close: async () => {
      unsubscribe();
      await client.dispose();
    },
  };
}
