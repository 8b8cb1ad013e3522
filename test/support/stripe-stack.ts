// E2E harness for the Stripe suites: the fake Stripe API in the test process, a stack whose
// gateway and worker talk to it, and the GraphQL documents of the routing and processor issues.
import { FakeStripe, FakeStripeOptions, startFakeStripe } from '../fakes/stripe';
import { GqlResponse, dataOf, gql, waitFor } from './graphql';
import { PAYMENT_FIELDS, Payment, getPayment, newKey } from './payments-api';
import { Stack, StackOptions, startStack } from './stack';

export const STRIPE_TEST_KEY = 'sk_test_e2eStripeSuite';
export const STRIPE_WEBHOOK_SECRET = 'whsec_test';

export interface StripeStack {
  readonly stack: Stack;
  readonly fake: FakeStripe;
}

/**
 * Starts the fake Stripe (loopback, this key only, rate limit high unless told) and then a
 * stack pointed at it. Stop both with `stopStripeStack`; `stopAllStacks` stops the stack alone.
 */
export async function startStripeStack(
  options: { env?: Record<string, string>; fake?: FakeStripeOptions } & Omit<
    StackOptions,
    'env'
  > = {},
): Promise<StripeStack> {
  const fake = await startFakeStripe({
    rateLimitPerSec: 10_000,
    secretKey: STRIPE_TEST_KEY,
    ...options.fake,
  });
  try {
    const stack = await startStack({
      ...options,
      env: {
        STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
        STRIPE_WEBHOOK_SECRET,
        STRIPE_API_BASE: fake.baseUrl,
        STRIPE_TIMEOUT_MS: '5000',
        STATUS_SYNC_AFTER_MS: '300',
        BREAKER_MIN_VOLUME: '5',
        BREAKER_WINDOW_MS: '5000',
        BREAKER_RESET_MS: '1000',
        ...options.env,
      },
    });
    return { stack, fake };
  } catch (error) {
    await fake.stop();
    throw error;
  }
}

export const PAYMENT_WITH_ROUTING_FIELDS = `${PAYMENT_FIELDS} routing { rule reason processors }`;

export interface RoutedPayment extends Payment {
  routing: { rule: string; reason: string; processors: string[] } | null;
}

export async function getRoutedPayment(
  stack: Stack,
  key: string,
  id: string,
): Promise<RoutedPayment> {
  const query = `query Get($id: ID!) { payment(id: $id) { ${PAYMENT_WITH_ROUTING_FIELDS} } }`;
  return dataOf(await gql<{ payment: RoutedPayment }>(stack.graphqlUrl, key, query, { id }))
    .payment;
}

export const CREATE_PAYMENT_METHOD = `mutation PM($input: CreatePaymentMethodInput!) {
  createPaymentMethod(input: $input) { id processors customerId label createdAt }
}`;

export interface PaymentMethodToken {
  processor: string;
  token: string;
}

/** Registers one instrument known at several processors; returns its gpm_ id. */
export async function createPaymentMethod(
  stack: Stack,
  key: string,
  tokens: PaymentMethodToken[],
  label = 'e2e card',
): Promise<{ id: string; processors: string[] }> {
  const response = await gql<{ createPaymentMethod: { id: string; processors: string[] } }>(
    stack.graphqlUrl,
    key,
    CREATE_PAYMENT_METHOD,
    { input: { idempotencyKey: newKey('pm'), tokens, label } },
  );
  return dataOf(response).createPaymentMethod;
}

export const ROUTE_PREVIEW = `query Preview($input: CreatePaymentInput!) {
  routePreview(input: $input) { rule reason processors }
}`;

export async function routePreview(
  stack: Stack,
  key: string,
  input: Record<string, unknown>,
): Promise<{ rule: string; reason: string; processors: string[] }> {
  const response = await gql<{
    routePreview: { rule: string; reason: string; processors: string[] };
  }>(stack.graphqlUrl, key, ROUTE_PREVIEW, {
    input: { idempotencyKey: newKey(), amount: 1000, currency: 'USD', ...input },
  });
  return dataOf(response).routePreview;
}

export interface ProcessorHealth {
  processor: string;
  breakerState: string;
  errorRate: number;
  calls: number;
  ratePerSecond: number;
  paused: boolean;
  pauseReason: string | null;
  reportingWorkers: number;
  lanes: { lane: string; queueDepth: number }[];
}

export const PROCESSOR_HEALTH = `query Health {
  processorHealth { processor breakerState errorRate calls ratePerSecond paused pauseReason reportingWorkers lanes { lane queueDepth } }
}`;

export async function processorHealth(
  stack: Stack,
  key: string,
  processor: string,
): Promise<ProcessorHealth | undefined> {
  const response = await gql<{ processorHealth: ProcessorHealth[] }>(
    stack.graphqlUrl,
    key,
    PROCESSOR_HEALTH,
  );
  return dataOf(response).processorHealth.find((h) => h.processor === processor);
}

export const PAUSE_PROCESSOR = `mutation Pause($processor: String!, $reason: String!) {
  pauseProcessor(processor: $processor, reason: $reason) { processor paused reason changedBy changedAt }
}`;
export const RESUME_PROCESSOR = `mutation Resume($processor: String!, $reason: String) {
  resumeProcessor(processor: $processor, reason: $reason) { processor paused reason changedBy changedAt }
}`;

export interface ProcessorControl {
  processor: string;
  paused: boolean;
  reason: string | null;
  changedBy: string;
  changedAt: string;
}

export function pauseProcessor(
  stack: Stack,
  key: string,
  processor: string,
  reason: string,
): Promise<GqlResponse<{ pauseProcessor: ProcessorControl }>> {
  return gql(stack.graphqlUrl, key, PAUSE_PROCESSOR, { processor, reason });
}

export function resumeProcessor(
  stack: Stack,
  key: string,
  processor: string,
  reason?: string,
): Promise<GqlResponse<{ resumeProcessor: ProcessorControl }>> {
  return gql(stack.graphqlUrl, key, RESUME_PROCESSOR, { processor, reason: reason ?? null });
}

const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELED', 'REQUIRES_ACTION', 'AUTHORIZED'];

/** Polls many payments until each one is in a terminal (or waiting-for-someone) state. */
export async function waitForAllSettled(
  stack: Stack,
  key: string,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Payment[]> {
  const settled = new Map<string, Payment>();
  await waitFor(
    async () => {
      const open = ids.filter((id) => !settled.has(id));
      const batch = await Promise.all(open.map((id) => getPayment(stack, key, id)));
      for (const p of batch) if (TERMINAL.includes(p.status)) settled.set(p.id, p);
      return settled.size === ids.length;
    },
    {
      timeoutMs,
      intervalMs: 250,
      what: `${ids.length} payments to settle`,
      context: () =>
        `unsettled: ${ids.filter((id) => !settled.has(id)).join(', ')}\n${stack.logs.tail()}`,
    },
  );
  return ids.map((id) => settled.get(id)!);
}
