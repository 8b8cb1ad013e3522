import { ProcessorAdapter } from '../libs/contracts/src';
import { SimulatorAdapter, SqlSimulatorStore } from './simulator/src';
import { StripeAdapter } from './stripe/src';

export interface ProcessorAdapterOptions {
  readonly simulator: {
    readonly latencyMs: number;
    readonly failureRate: number;
    readonly webhookSecret?: string;
  };
  readonly stripe: {
    readonly secretKey?: string;
    readonly webhookSecrets: readonly string[];
    readonly apiBase: string;
    readonly timeoutMs: number;
    readonly apiVersion?: string;
    readonly returnUrl?: string;
  };
  /** Storage of the simulated processor's own state (it lives apart from ours, like a real one). */
  readonly sql: { query(sql: string, params?: unknown[]): Promise<unknown> };
}

/**
 * Builds every configured adapter. The simulator is always there, so the gateway runs
 * anywhere; Stripe joins when STRIPE_SECRET_KEY is set (and refuses to start misconfigured).
 */
export function createProcessorAdapters(options: ProcessorAdapterOptions): ProcessorAdapter[] {
  const adapters: ProcessorAdapter[] = [];
  const { stripe } = options;
  if (stripe.secretKey) {
    adapters.push(
      new StripeAdapter({
        secretKey: stripe.secretKey,
        webhookSecrets: stripe.webhookSecrets,
        apiBase: stripe.apiBase,
        timeoutMs: stripe.timeoutMs,
        apiVersion: stripe.apiVersion,
        returnUrl: stripe.returnUrl,
      }),
    );
  }
  adapters.push(
    new SimulatorAdapter({
      store: new SqlSimulatorStore(options.sql),
      latencyMs: options.simulator.latencyMs,
      failureRate: options.simulator.failureRate,
      webhookSecret: options.simulator.webhookSecret,
    }),
  );
  return adapters;
}
