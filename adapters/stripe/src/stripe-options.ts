import Stripe from 'stripe';

export interface StripeAdapterOptions {
  /** STRIPE_SECRET_KEY: `sk_`/`rk_` + `test_`/`live_` + key. */
  readonly secretKey: string;
  /** STRIPE_WEBHOOK_SECRET: every secret accepted (several while rotating). */
  readonly webhookSecrets: readonly string[];
  /** STRIPE_API_BASE, e.g. https://api.stripe.com or http://127.0.0.1:12111 (a fake). */
  readonly apiBase: string;
  /** Per-request timeout of the SDK. */
  readonly timeoutMs: number;
  /** Pins Stripe-Version; the SDK's own version when absent. */
  readonly apiVersion?: string;
  /** Where 3-D Secure sends the customer back; without it Stripe answers `use_stripe_sdk`. */
  readonly returnUrl?: string;
  /** Oldest webhook signature accepted, in seconds (Stripe's default 300). */
  readonly webhookToleranceSec?: number;
}

const SECRET_KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9]+$/;

/** Refuses unusable options at start-up, naming the environment variable to fix. */
export function validateStripeOptions(options: StripeAdapterOptions): void {
  if (!SECRET_KEY.test(options.secretKey ?? '')) {
    // Never echo the key itself: it may be a real secret with a typo.
    throw new Error(
      'STRIPE_SECRET_KEY must look like sk_test_…, sk_live_…, rk_test_… or rk_live_…',
    );
  }
  const secrets = options.webhookSecrets ?? [];
  if (secrets.length === 0 || secrets.some((s) => s.trim() === '')) {
    throw new Error(
      'STRIPE_WEBHOOK_SECRET must hold at least one non-empty secret (comma-separated)',
    );
  }
  apiBaseParts(options.apiBase);
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new Error(`Stripe timeoutMs must be a positive integer, got ${options.timeoutMs}`);
  }
}

/** SDK configuration: our layer owns retries, so the SDK's are off. */
export function stripeClientConfig(options: StripeAdapterOptions): Stripe.StripeConfig {
  return {
    ...apiBaseParts(options.apiBase),
    maxNetworkRetries: 0,
    timeout: options.timeoutMs,
    telemetry: false,
    // A pinned version is the account's business, not the SDK's type list.
    ...(options.apiVersion ? { apiVersion: options.apiVersion as Stripe.LatestApiVersion } : {}),
  };
}

function apiBaseParts(apiBase: string): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new Error(`STRIPE_API_BASE must be an http(s) URL, got "${apiBase}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`STRIPE_API_BASE must be an http(s) URL, got "${apiBase}"`);
  }
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return { host: url.hostname, port: url.port || (protocol === 'https' ? 443 : 80), protocol };
}
