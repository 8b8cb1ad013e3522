// The payments API as the e2e suites call it: documents from shared/API.md and small helpers.
import { randomBytes } from 'node:crypto';
import { GqlResponse, dataOf, gql, waitFor } from './graphql';
import { Stack } from './stack';

export const PAYMENT_FIELDS = `
  id status amount currency amountCaptured amountRefunded captureMethod processor processorReference
  failure { code declineCode message retryable }
  nextAction { type clientSecret redirectUrl }
  attempts { id processor operation outcome latencyMs errorKind createdAt }
  refunds { id paymentId status amount currency reason createdAt }
  metadata createdAt updatedAt`;

export const REFUND_FIELDS = 'id paymentId status amount currency reason createdAt';

export const CREATE_PAYMENT = `mutation Create($input: CreatePaymentInput!) {
  createPayment(input: $input) { ${PAYMENT_FIELDS} }
}`;
export const CAPTURE_PAYMENT = `mutation Capture($input: CapturePaymentInput!) {
  capturePayment(input: $input) { ${PAYMENT_FIELDS} }
}`;
export const CANCEL_PAYMENT = `mutation Cancel($input: CancelPaymentInput!) {
  cancelPayment(input: $input) { ${PAYMENT_FIELDS} }
}`;
export const REFUND_PAYMENT = `mutation Refund($input: RefundPaymentInput!) {
  refundPayment(input: $input) { ${REFUND_FIELDS} }
}`;
export const GET_PAYMENT = `query Get($id: ID!) { payment(id: $id) { ${PAYMENT_FIELDS} } }`;

export interface Attempt {
  id: string;
  processor: string;
  operation: string;
  outcome: string;
  latencyMs: number | null;
  errorKind: string | null;
  createdAt: string;
}
export interface Refund {
  id: string;
  paymentId: string;
  status: string;
  amount: number;
  currency: string;
  reason: string | null;
  createdAt: string;
}
export interface Payment {
  id: string;
  status: string;
  amount: number;
  currency: string;
  amountCaptured: number;
  amountRefunded: number;
  captureMethod: string;
  processor: string | null;
  processorReference: string | null;
  failure: { code: string; declineCode: string | null; message: string; retryable: boolean } | null;
  nextAction: { type: string; clientSecret: string | null; redirectUrl: string | null } | null;
  attempts: Attempt[];
  refunds: Refund[];
  metadata: Record<string, string> | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A fresh idempotency key of letters only. Not a UUID on purpose: about 1 UUID v4 in 500 holds
 * a Luhn-valid digit run (e.g. `…61b7-4037-8910-0475f…`) that the card-number check refuses,
 * which would make the suites flaky (see the test about UUID keys in idempotency.e2e-spec.ts).
 */
export function newKey(prefix = 'idem'): string {
  const letters = [...randomBytes(24)].map((b) => String.fromCharCode(97 + (b % 26))).join('');
  return `${prefix}-${letters}`;
}

export type CreateInput = Record<string, unknown>;

export function createInput(overrides: CreateInput = {}): CreateInput {
  return {
    idempotencyKey: newKey(),
    amount: 2500,
    currency: 'USD',
    paymentMethod: 'sim_ok',
    ...overrides,
  };
}

export function createPaymentRaw(
  stack: Stack,
  key: string | null,
  input: CreateInput,
): Promise<GqlResponse<{ createPayment: Payment }>> {
  return gql<{ createPayment: Payment }>(stack.graphqlUrl, key, CREATE_PAYMENT, { input });
}

export async function createPayment(
  stack: Stack,
  key: string,
  overrides: CreateInput = {},
): Promise<Payment> {
  return dataOf(await createPaymentRaw(stack, key, createInput(overrides))).createPayment;
}

export async function getPayment(stack: Stack, key: string, id: string): Promise<Payment> {
  return dataOf(await gql<{ payment: Payment }>(stack.graphqlUrl, key, GET_PAYMENT, { id }))
    .payment;
}

/** Polls `payment(id)` until `accept` holds; fails with the app logs on timeout. */
export function waitForPayment(
  stack: Stack,
  key: string,
  id: string,
  accept: (p: Payment) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<Payment> {
  let last: Payment | undefined;
  return waitFor(
    async () => {
      last = await getPayment(stack, key, id);
      return accept(last) ? last : undefined;
    },
    {
      timeoutMs,
      intervalMs: 100,
      what: `${id} ${what}`,
      context: () => `last payment: ${JSON.stringify(last)}\n${stack.logs.tail()}`,
    },
  );
}

export function waitForStatus(
  stack: Stack,
  key: string,
  id: string,
  status: string,
  timeoutMs?: number,
): Promise<Payment> {
  return waitForPayment(stack, key, id, (p) => p.status === status, `status ${status}`, timeoutMs);
}

/** Row count of each table, to check that refused requests wrote nothing. */
export async function tableCounts(
  stack: Stack,
  tables: readonly string[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`);
    counts[table] = row.n;
  }
  return counts;
}
