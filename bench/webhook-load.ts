// Load of signed Stripe events on POST /webhooks/stripe: every request a new event (a unique
// payout.paid, which the worker applies without any payment of ours), signed like Stripe.
// closedLoop: N connections back to back (the maximum); openLoop: a fixed offered rate, latency
// counted from the instant each request was due.
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { Latency, summarize } from './load';
import { RawHttpPool, fireAtRate, rawPost, settle } from './raw-http';
import { SlowWindow, slowestWindows } from './slow-windows';

const RUN_ID = randomBytes(4).toString('hex');
const TIMEOUT_MS = 10_000;
let sequence = 0;

export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

export interface WebhookLoad {
  readonly accepted: number;
  readonly failed: number;
  readonly durationS: number;
  readonly acceptedPerS: number;
  readonly latencyMs: Latency;
  /** Fixed rate only: the half-seconds with the highest p99, worst first. */
  readonly slowestHalfSeconds: readonly SlowWindow[];
  readonly firstFailure: string | null;
}

/** A signed, never-seen-before Stripe event: body and Stripe-Signature header. */
export function signedEvent(secret: string, label: string): { body: string; signature: string } {
  sequence += 1;
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id: `evt_bench_${RUN_ID}_${label}_${sequence}`,
    object: 'event',
    api_version: '2025-08-27.basil',
    created: now,
    livemode: false,
    pending_webhooks: 1,
    type: 'payout.paid',
    data: {
      object: {
        id: `po_bench_${RUN_ID}_${label}_${sequence}`,
        object: 'payout',
        amount: 10_000 + (sequence % 1000),
        currency: 'eur',
        arrival_date: now + 86_400,
        status: 'paid',
        method: 'standard',
        failure_code: null,
      },
    },
    request: { id: null, idempotency_key: null },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    timestamp: now,
  });
  return { body, signature };
}

class Tally {
  accepted = 0;
  failed = 0;
  readonly latencies: number[] = [];
  readonly dueS: number[] = [];
  firstFailure: string | null = null;
  /** `dueS`: when the request was due, seconds into the phase (fixed rate). */
  record(status: number, body: string, ms: number, dueS?: number): void {
    this.latencies.push(ms);
    if (dueS !== undefined) this.dueS.push(dueS);
    if (status === 200 && body.includes('"received":true')) this.accepted += 1;
    else this.fail(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
  fail(message: string, count = 1): void {
    if (count <= 0) return;
    this.failed += count;
    this.firstFailure ??= message;
  }
  result(durationS: number): WebhookLoad {
    return {
      accepted: this.accepted,
      failed: this.failed,
      durationS: Math.round(durationS * 100) / 100,
      acceptedPerS: Math.round(this.accepted / durationS),
      latencyMs: summarize(this.latencies),
      slowestHalfSeconds: this.dueS.length > 0 ? slowestWindows(this.dueS, this.latencies) : [],
      firstFailure: this.firstFailure,
    };
  }
}

export function closedLoopWebhooks(
  target: WebhookTarget,
  options: { label: string; connections: number; durationS: number },
): Promise<WebhookLoad> {
  const tally = new Tally();
  const url = new URL(target.url);
  let pending: { status: number; body: string } | null = null;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: url.origin,
        connections: options.connections,
        duration: options.durationS,
        timeout: TIMEOUT_MS / 1000,
        requests: [
          {
            method: 'POST',
            path: url.pathname,
            setupRequest: (req) => {
              const { body, signature } = signedEvent(target.secret, options.label);
              return {
                ...req,
                body,
                headers: { 'content-type': 'application/json', 'stripe-signature': signature },
              };
            },
            onResponse: (status, body) => (pending = { status, body }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        tally.fail(`${result.errors} connection errors`, result.errors);
        resolve(tally.result(result.duration));
      },
    );
    instance.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
      tally.record(status, pending?.body ?? '', ms);
      pending = null;
    });
  });
}

export async function openLoopWebhooks(
  target: WebhookTarget,
  options: { label: string; rate: number; durationS: number; connections: number },
): Promise<WebhookLoad> {
  const tally = new Tally();
  const url = new URL(target.url);
  const pool = new RawHttpPool(url, options.connections, TIMEOUT_MS);
  let outstanding = 0;
  const fire = (dueAt: number) => {
    outstanding += 1;
    const { body, signature } = signedEvent(target.secret, options.label);
    const headers = { 'content-type': 'application/json', 'stripe-signature': signature };
    pool.request(rawPost(url, headers, body), (error, response) => {
      outstanding -= 1;
      if (error || !response) tally.fail(error?.message ?? 'no response');
      else {
        const dueS = (dueAt - start) / 1000;
        tally.record(response.status, response.body, performance.now() - dueAt, dueS);
      }
    });
  };
  const start = performance.now();
  await fireAtRate(options.rate, options.durationS, fire);
  const sentForS = (performance.now() - start) / 1000;
  tally.fail('no answer within the grace period', await settle(() => outstanding, 15_000));
  pool.destroy();
  return tally.result(sentForS);
}
