// Payments made through GraphQL appear, within seconds, as balanced journal entries that the
// gateway reads from the ledger (apps/ledger, a separate process) over NATS request/reply.
import { dataOf, errorCodes, gql } from '../support/graphql';
import {
  CAPTURE_PAYMENT,
  REFUND_PAYMENT,
  createPayment,
  newKey,
  waitForStatus,
} from '../support/payments-api';
import { startLedgerProcess } from '../support/ledger-stack';
import { AppProcess } from '../support/stack';
import { Stack, printLogsIfFailed, startStack, stopAllStacks } from '../support/stack';

jest.setTimeout(120_000);

let stack: Stack;
let ledger: AppProcess;
let payKey: string;
let ledgerKey: string;
let noLedgerKey: string;

beforeAll(async () => {
  stack = await startStack();
  ledger = await startLedgerProcess(stack);
  payKey = await stack.createApiKey('shop', [
    'payments:read',
    'payments:write',
    'refunds:write',
    'ledger:read',
  ]);
  ledgerKey = await stack.createApiKey('finance', ['ledger:read']);
  noLedgerKey = await stack.createApiKey('reader', ['payments:read', 'payments:write']);
});

afterEach(() => printLogsIfFailed(stack));
afterAll(async () => {
  await ledger?.kill('SIGTERM');
  await stopAllStacks();
});

const ENTRIES = `query Entries($paymentId: ID) {
  journalEntries(filter: { paymentId: $paymentId }, first: 20) {
    edges { node { kind status paymentId lines { accountCode direction amount currency } } }
    pageInfo { hasNextPage }
  }
}`;

type Line = { accountCode: string; direction: string; amount: number; currency: string };
type Entries = { journalEntries: { edges: { node: { kind: string; lines: Line[] } }[] } };

async function entriesOf(paymentId: string, minimum: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const edges = dataOf(await gql<Entries>(stack.graphqlUrl, ledgerKey, ENTRIES, { paymentId }))
      .journalEntries.edges;
    if (edges.length >= minimum) return edges.map((e) => e.node);
    if (Date.now() > deadline) throw new Error(`only ${edges.length} entries for ${paymentId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('books a sale and its refund as balanced entries, readable through GraphQL', async () => {
  const payment = await createPayment(stack, payKey, { amount: 4200 });
  await waitForStatus(stack, payKey, payment.id, 'SUCCEEDED');
  dataOf(
    await gql(stack.graphqlUrl, payKey, REFUND_PAYMENT, {
      input: { paymentId: payment.id, amount: 1200, idempotencyKey: newKey() },
    }),
  );
  const entries = await entriesOf(payment.id, 2);
  expect(entries.map((e) => e.kind).sort()).toEqual(['refund', 'sale']);
  for (const entry of entries) {
    const sum = (side: string) =>
      entry.lines.filter((l) => l.direction === side).reduce((s, l) => s + l.amount, 0);
    expect(sum('debit')).toBe(sum('credit'));
  }

  const tb = dataOf(
    await gql<{ trialBalance: { debits: number; credits: number; balanced: boolean } }>(
      stack.graphqlUrl,
      ledgerKey,
      `{ trialBalance(currency: "USD") { debits credits balanced rows { accountCode debits credits } } }`,
    ),
  ).trialBalance;
  expect(tb.balanced).toBe(true);
  expect(tb.debits).toBe(5400);

  const account = dataOf(
    await gql<{ ledgerAccount: { code: string; balance: { posted: { balance: number } } } }>(
      stack.graphqlUrl,
      ledgerKey,
      `{ ledgerAccount(code: "receivable:simulator:USD") { code type balance { posted { balance } pending { balance } } } }`,
    ),
  ).ledgerAccount;
  expect(account.balance.posted.balance).toBe(3000);

  const viaPayment = dataOf(
    await gql<{ payment: { ledgerEntries: { kind: string }[] } }>(
      stack.graphqlUrl,
      payKey, // the payment is visible to its own client only
      `query P($id: ID!) { payment(id: $id) { id ledgerEntries { kind status } } }`,
      { id: payment.id },
    ),
  ).payment;
  expect(viaPayment.ledgerEntries.map((e) => e.kind).sort()).toEqual(['refund', 'sale']);
});

it('holds a manual authorization as pending and posts it on capture', async () => {
  const payment = await createPayment(stack, payKey, { amount: 1000, captureMethod: 'MANUAL' });
  await waitForStatus(stack, payKey, payment.id, 'AUTHORIZED');
  const held = await entriesOf(payment.id, 1);
  expect(held.map((e) => e.kind)).toEqual(['authorization_hold']);
  dataOf(
    await gql(stack.graphqlUrl, payKey, CAPTURE_PAYMENT, {
      input: { paymentId: payment.id, idempotencyKey: newKey() },
    }),
  );
  const entries = await entriesOf(payment.id, 3);
  expect(entries.map((e) => e.kind).sort()).toEqual([
    'authorization_hold',
    'authorization_release',
    'capture',
  ]);
});

it('refuses ledger fields without the ledger:read scope', async () => {
  const response = await gql(stack.graphqlUrl, noLedgerKey, `{ ledgerAccounts { code } }`);
  expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  const payment = await createPayment(stack, noLedgerKey);
  const nested = await gql(
    stack.graphqlUrl,
    noLedgerKey,
    `query P($id: ID!) { payment(id: $id) { id ledgerEntries { kind } } }`,
    { id: payment.id },
  );
  expect(errorCodes(nested)).toEqual(['FORBIDDEN']); // its own payment, but no ledger:read
});
