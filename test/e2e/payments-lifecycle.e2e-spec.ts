// Payment lifecycle through the public GraphQL API against the real gateway and worker
// processes (shared/API.md), plus listing, visibility between clients, and health/metrics.
import { dataOf, errorCodes, gql } from '../support/graphql';
import {
  CANCEL_PAYMENT,
  CAPTURE_PAYMENT,
  GET_PAYMENT,
  Payment,
  REFUND_PAYMENT,
  Refund,
  createPayment,
  newKey,
  waitForPayment,
  waitForStatus,
} from '../support/payments-api';
import { Stack, printLogsIfFailed, startStack, stopAllStacks } from '../support/stack';

// jest.config.js sets testTimeout per project, which jest-circus ignores (it reads only the
// global option): set it here so stack start-up and slow paths get the intended 120 s.
jest.setTimeout(120_000);

let stack: Stack;
let key: string;
let adminKey: string;

beforeAll(async () => {
  stack = await startStack();
  key = await stack.createApiKey('merchant-a', [
    'payments:read',
    'payments:write',
    'refunds:write',
  ]);
  // The operator path once: the CLI prints the new key alone on its last line.
  adminKey = await stack.createApiKeyWithCli('ops-admin', ['admin']);
  expect(adminKey).toMatch(/^gk_[A-Za-z0-9_-]{20,}$/);
});

afterEach(() => printLogsIfFailed(stack));
afterAll(stopAllStacks);

async function capture(k: string, paymentId: string, amount?: number) {
  return gql<{ capturePayment: Payment }>(stack.graphqlUrl, k, CAPTURE_PAYMENT, {
    input: { idempotencyKey: newKey(), paymentId, ...(amount === undefined ? {} : { amount }) },
  });
}

async function cancel(k: string, paymentId: string) {
  return gql<{ cancelPayment: Payment }>(stack.graphqlUrl, k, CANCEL_PAYMENT, {
    input: { idempotencyKey: newKey(), paymentId },
  });
}

async function refund(k: string, paymentId: string, amount?: number, reason?: string) {
  return gql<{ refundPayment: Refund }>(stack.graphqlUrl, k, REFUND_PAYMENT, {
    input: {
      idempotencyKey: newKey(),
      paymentId,
      ...(amount === undefined ? {} : { amount }),
      ...(reason ? { reason } : {}),
    },
  });
}

describe('authorize outcomes', () => {
  it('sim_ok: answers PENDING at once, then SUCCEEDED with one successful authorize attempt and one charge', async () => {
    const created = await createPayment(stack, key, {
      amount: 2599,
      currency: 'usd',
      metadata: { order: 'o-1' },
    });
    expect(created).toMatchObject({
      status: 'PENDING',
      amount: 2599,
      currency: 'USD',
      amountCaptured: 0,
      amountRefunded: 0,
      captureMethod: 'AUTOMATIC',
      processor: null,
      processorReference: null,
      failure: null,
      metadata: { order: 'o-1' },
    });
    expect(created.id).toMatch(/^pay_/);

    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    expect(done).toMatchObject({
      amount: 2599,
      amountCaptured: 2599,
      amountRefunded: 0,
      processor: 'simulator',
      failure: null,
      nextAction: null,
    });
    expect(done.processorReference).toMatch(/^simpay_/);
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({
      processor: 'simulator',
      operation: 'authorize',
      outcome: 'succeeded',
      errorKind: null,
    });
    expect(done.attempts[0].id).toMatch(/^att_/);
    expect(new Date(done.updatedAt).getTime()).toBeGreaterThanOrEqual(
      new Date(done.createdAt).getTime(),
    );
    expect(await stack.chargeCount(created.id)).toBe(1);
  });

  it.each([
    ['sim_decline_insufficient_funds', 'insufficient_funds'],
    ['sim_decline_do_not_honor', 'do_not_honor'],
  ])('%s is a soft decline: FAILED, card_declined, retryable', async (token, declineCode) => {
    const created = await createPayment(stack, key, { paymentMethod: token });
    const failed = await waitForStatus(stack, key, created.id, 'FAILED');
    expect(failed.failure).toMatchObject({ code: 'card_declined', declineCode, retryable: true });
    expect(failed.failure!.message.length).toBeGreaterThan(0);
    expect(failed.amountCaptured).toBe(0);
    expect(failed.attempts).toEqual([
      expect.objectContaining({ operation: 'authorize', outcome: 'failed' }),
    ]);
    expect(await stack.chargeCount(created.id)).toBe(0);
  });

  it('sim_decline_stolen_card is a hard decline: not retryable', async () => {
    const created = await createPayment(stack, key, { paymentMethod: 'sim_decline_stolen_card' });
    const failed = await waitForStatus(stack, key, created.id, 'FAILED');
    expect(failed.failure).toMatchObject({
      code: 'card_declined',
      declineCode: 'stolen_card',
      retryable: false,
    });
    expect(await stack.chargeCount(created.id)).toBe(0);
  });

  it('sim_3ds needs customer action: REQUIRES_ACTION with a redirect', async () => {
    const created = await createPayment(stack, key, { paymentMethod: 'sim_3ds' });
    const waiting = await waitForStatus(stack, key, created.id, 'REQUIRES_ACTION');
    expect(waiting.nextAction).not.toBeNull();
    expect(waiting.nextAction!.type).toBe('redirect_to_url');
    expect(waiting.nextAction!.redirectUrl).toMatch(/^https:\/\//);
    expect(waiting.amountCaptured).toBe(0);
    expect(waiting.failure).toBeNull();
  });

  it('sim_timeout: the outcome is unknown at first, then resolved with the same key; exactly one charge', async () => {
    const created = await createPayment(stack, key, { paymentMethod: 'sim_timeout', amount: 4200 });
    const outcomes = new Set<string>();
    const done = await waitForPayment(
      stack,
      key,
      created.id,
      (p) => {
        p.attempts.forEach((a) => outcomes.add(a.outcome));
        return p.status === 'SUCCEEDED';
      },
      'SUCCEEDED after an unknown outcome',
    );
    // The unknown outcome lasts at least STATUS_SYNC_AFTER_MS (500 ms); polling every 100 ms sees it.
    expect(outcomes.has('unknown')).toBe(true);
    expect(done.amountCaptured).toBe(4200);
    const authorizeAttempts = done.attempts.filter((a) => a.operation === 'authorize');
    expect(authorizeAttempts).toHaveLength(1); // the same attempt (same key) was sent again
    expect(authorizeAttempts[0].outcome).toBe('succeeded');
    expect(await stack.chargeCount(created.id)).toBe(1);
  });

  it('sim_unavailable: FAILED with processor_unavailable after PROCESSOR_MAX_ATTEMPTS (3) attempts, no charge', async () => {
    const created = await createPayment(stack, key, { paymentMethod: 'sim_unavailable' });
    const failed = await waitForStatus(stack, key, created.id, 'FAILED');
    expect(failed.failure).toMatchObject({ code: 'processor_unavailable', retryable: true });
    expect(failed.attempts).toHaveLength(3);
    for (const attempt of failed.attempts) {
      expect(attempt).toMatchObject({
        operation: 'authorize',
        outcome: 'failed',
        errorKind: 'unavailable',
      });
    }
    expect(await stack.chargeCount(created.id)).toBe(0);
  });
});

describe('manual capture and cancel', () => {
  it('MANUAL: AUTHORIZED, a capture above the authorized amount is refused, a partial capture succeeds', async () => {
    const created = await createPayment(stack, key, { captureMethod: 'MANUAL', amount: 5000 });
    expect(created.captureMethod).toBe('MANUAL');
    const authorized = await waitForStatus(stack, key, created.id, 'AUTHORIZED');
    expect(authorized.amountCaptured).toBe(0);
    expect(authorized.processorReference).toMatch(/^simpay_/);

    const tooMuch = await capture(key, created.id, 5001);
    expect(errorCodes(tooMuch)).toEqual(['BAD_USER_INPUT']);
    expect(tooMuch.body.errors![0].extensions!.field).toBe('amount');

    const captured = dataOf(await capture(key, created.id, 3000)).capturePayment;
    expect(captured.id).toBe(created.id);
    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    expect(done.amountCaptured).toBe(3000);
    expect(done.attempts.map((a) => [a.operation, a.outcome])).toEqual([
      ['authorize', 'succeeded'],
      ['capture', 'succeeded'],
    ]);
    expect(await stack.chargeCount(created.id)).toBe(1);
  });

  it('cancel of an AUTHORIZED payment: CANCELED', async () => {
    const created = await createPayment(stack, key, { captureMethod: 'MANUAL' });
    await waitForStatus(stack, key, created.id, 'AUTHORIZED');
    const response = await cancel(key, created.id);
    expect(dataOf(response).cancelPayment.id).toBe(created.id);
    const canceled = await waitForStatus(stack, key, created.id, 'CANCELED');
    expect(canceled.amountCaptured).toBe(0);
    expect(canceled.attempts.map((a) => a.operation)).toEqual(['authorize', 'cancel']);
    // A capture after the cancel is refused.
    expect(errorCodes(await capture(key, created.id))).toEqual(['INVALID_STATE']);
  });

  it('cancel of a SUCCEEDED payment: INVALID_STATE, payment unchanged', async () => {
    const created = await createPayment(stack, key);
    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    const response = await cancel(key, created.id);
    expect(errorCodes(response)).toEqual(['INVALID_STATE']);
    const after = dataOf(
      await gql<{ payment: Payment }>(stack.graphqlUrl, key, GET_PAYMENT, { id: created.id }),
    ).payment;
    expect(after.status).toBe('SUCCEEDED');
    expect(after.updatedAt).toBe(done.updatedAt);
  });
});

describe('refunds', () => {
  it('partial then full refund; more than the remainder is refused; nothing left afterwards', async () => {
    const created = await createPayment(stack, key, { amount: 10_000 });
    await waitForStatus(stack, key, created.id, 'SUCCEEDED');

    const first = dataOf(await refund(key, created.id, 3000, 'damaged')).refundPayment;
    expect(first).toMatchObject({
      paymentId: created.id,
      status: 'PENDING',
      amount: 3000,
      currency: 'USD',
      reason: 'damaged',
    });
    expect(first.id).toMatch(/^ref_/);

    const tooMuch = await refund(key, created.id, 7001);
    expect(errorCodes(tooMuch)).toEqual(['BAD_USER_INPUT']);
    expect(tooMuch.body.errors![0].extensions!.field).toBe('amount');

    const rest = dataOf(await refund(key, created.id)).refundPayment;
    expect(rest).toMatchObject({ status: 'PENDING', amount: 7000 });

    const done = await waitForPayment(
      stack,
      key,
      created.id,
      (p) =>
        p.amountRefunded === 10_000 &&
        p.refunds.length === 2 &&
        p.refunds.every((r) => r.status === 'SUCCEEDED') &&
        p.attempts.filter((a) => a.operation === 'refund' && a.outcome === 'succeeded').length ===
          2,
      'both refunds SUCCEEDED',
    );
    expect(done.amountRefunded).toBe(10_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.refunds.map((r) => r.id).sort()).toEqual([first.id, rest.id].sort());
    expect(done.refunds.map((r) => r.amount).sort((a, b) => a - b)).toEqual([3000, 7000]);
    expect(
      done.attempts.filter((a) => a.operation === 'refund' && a.outcome === 'succeeded'),
    ).toHaveLength(2);

    expect(errorCodes(await refund(key, created.id, 1))).toEqual(['INVALID_STATE']);
    const [{ n }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM refunds WHERE payment_id = $1`,
      [created.id],
    );
    expect(n).toBe(2);
  });

  it('refund of a FAILED payment: INVALID_STATE and no refund row', async () => {
    const created = await createPayment(stack, key, { paymentMethod: 'sim_decline_do_not_honor' });
    await waitForStatus(stack, key, created.id, 'FAILED');
    expect(errorCodes(await refund(key, created.id))).toEqual(['INVALID_STATE']);
    const [{ n }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM refunds WHERE payment_id = $1`,
      [created.id],
    );
    expect(n).toBe(0);
  });
});

const LIST_PAYMENTS = `query List($first: Int, $after: String, $filter: PaymentFilter) {
  payments(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id status amount } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface Page {
  payments: {
    edges: { cursor: string; node: { id: string; status: string; amount: number } }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

async function list(k: string, variables: Record<string, unknown>): Promise<Page['payments']> {
  return dataOf(await gql<Page>(stack.graphqlUrl, k, LIST_PAYMENTS, variables)).payments;
}

describe('payments query', () => {
  it('Relay pagination (first/after, pageInfo), newest first, and a status filter', async () => {
    const k = await stack.createApiKey('lister', ['payments:read', 'payments:write']);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createPayment(stack, k, { amount: 100 + i })).id);
    const declined = await createPayment(stack, k, { paymentMethod: 'sim_decline_stolen_card' });
    await waitForStatus(stack, k, declined.id, 'FAILED');
    for (const id of ids) await waitForStatus(stack, k, id, 'SUCCEEDED');
    const all = [...ids, declined.id];

    const page1 = await list(k, { first: 4 });
    expect(page1.edges).toHaveLength(4);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(page1.pageInfo.startCursor).toBe(page1.edges[0].cursor);
    expect(page1.pageInfo.endCursor).toBe(page1.edges[3].cursor);

    const page2 = await list(k, { first: 4, after: page1.pageInfo.endCursor });
    expect(page2.edges).toHaveLength(2);
    expect(page2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const seen = [...page1.edges, ...page2.edges].map((e) => e.node.id);
    expect(new Set(seen).size).toBe(6);
    // Newest first: the ids are sortable and were created in order.
    expect(seen).toEqual([...all].sort().reverse());

    const failedOnly = await list(k, { first: 10, filter: { status: 'FAILED' } });
    expect(failedOnly.edges.map((e) => e.node)).toEqual([
      { id: declined.id, status: 'FAILED', amount: 2500 },
    ]);
    const succeeded = await list(k, { first: 10, filter: { status: 'SUCCEEDED' } });
    expect(succeeded.edges.map((e) => e.node.id).sort()).toEqual([...ids].sort());
  });

  it('a client sees only its own payments; an admin key sees everyone’s', async () => {
    const aKey = await stack.createApiKey('client-a', [
      'payments:read',
      'payments:write',
      'refunds:write',
    ]);
    const bKey = await stack.createApiKey('client-b', [
      'payments:read',
      'payments:write',
      'refunds:write',
    ]);
    const a = await createPayment(stack, aKey);
    const b = await createPayment(stack, bKey);
    await waitForStatus(stack, aKey, a.id, 'SUCCEEDED');
    await waitForStatus(stack, bKey, b.id, 'SUCCEEDED');

    const stolen = await gql<{ payment: Payment }>(stack.graphqlUrl, bKey, GET_PAYMENT, {
      id: a.id,
    });
    expect(errorCodes(stolen)).toEqual(['NOT_FOUND']);
    expect(stolen.body.data?.payment ?? null).toBeNull();
    expect(errorCodes(await refund(bKey, a.id))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await cancel(bKey, a.id))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await capture(bKey, a.id))).toEqual(['NOT_FOUND']);

    const bList = await list(bKey, { first: 100 });
    expect(bList.edges.map((e) => e.node.id)).toEqual([b.id]);

    const adminView = dataOf(
      await gql<{ payment: Payment }>(stack.graphqlUrl, adminKey, GET_PAYMENT, { id: a.id }),
    ).payment;
    expect(adminView.id).toBe(a.id);
    const adminList = (await list(adminKey, { first: 100 })).edges.map((e) => e.node.id);
    expect(adminList).toEqual(expect.arrayContaining([a.id, b.id]));
    const [{ n }] = await stack.dataSource.query(`SELECT count(*)::int AS n FROM payments`);
    expect(adminList.length).toBe(Math.min(n, 100));
  });

  it('fetches 100 payments with their attempts and refunds in one query', async () => {
    const k = await stack.createApiKey('bulk', [
      'payments:read',
      'payments:write',
      'refunds:write',
    ]);
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const created = await Promise.all(
        Array.from({ length: 10 }, () => createPayment(stack, k, { amount: 1000 })),
      );
      ids.push(...created.map((p) => p.id));
    }
    await waitForSucceeded(ids);
    const refunded = ids.slice(0, 5);
    for (const id of refunded) dataOf(await refund(k, id, 400));

    const query = `{ payments(first: 100) {
      edges { node { id status amountCaptured
        attempts { id operation outcome }
        refunds { id paymentId amount status } } }
      pageInfo { hasNextPage }
    } }`;
    const response = await gql<{
      payments: {
        edges: {
          node: {
            id: string;
            status: string;
            amountCaptured: number;
            attempts: { operation: string; outcome: string }[];
            refunds: { paymentId: string; amount: number }[];
          };
        }[];
        pageInfo: { hasNextPage: boolean };
      };
    }>(stack.graphqlUrl, k, query);
    const page = dataOf(response).payments;
    expect(page.edges).toHaveLength(100);
    expect(page.pageInfo.hasNextPage).toBe(false);
    expect(page.edges.map((e) => e.node.id).sort()).toEqual([...ids].sort());
    for (const { node } of page.edges) {
      expect(node.status).toBe('SUCCEEDED');
      expect(node.amountCaptured).toBe(1000);
      expect(node.attempts.filter((a) => a.operation === 'authorize')).toEqual([
        { operation: 'authorize', outcome: 'succeeded', id: expect.any(String) },
      ]);
      const expected = refunded.includes(node.id) ? [{ paymentId: node.id, amount: 400 }] : [];
      expect(node.refunds.map(({ paymentId, amount }) => ({ paymentId, amount }))).toEqual(
        expected,
      );
    }
  });
});

async function waitForSucceeded(ids: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [{ n }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM payments WHERE id = ANY($1) AND status = 'SUCCEEDED'`,
      [ids],
    );
    if (n === ids.length) return;
    if (Date.now() > deadline)
      throw new Error(`only ${n}/${ids.length} payments SUCCEEDED\n${stack.logs.tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('health and metrics', () => {
  it('GET /healthz answers 200', async () => {
    const response = await fetch(`${stack.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 with the Postgres and NATS checks', async () => {
    const response = await fetch(`${stack.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', nats: 'ok' },
    });
  });

  it('GET /metrics exposes latency, outbox lag, consumer lag and payments by status', async () => {
    const response = await fetch(`${stack.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    // Observed series, not only HELP lines: operations ran above.
    expect(text).toMatch(
      /^graphql_operation_duration_seconds_count\{[^}]*operation="createPayment"[^}]*\} [1-9]/m,
    );
    expect(text).toMatch(/^outbox_lag_seconds(\{[^}]*\})? [0-9.e+-]+$/m);
    expect(text).toMatch(
      /^jetstream_consumer_pending_messages\{[^}]*consumer="payment-worker"[^}]*\} \d+/m,
    );
    expect(text).toMatch(/^payments_by_status\{[^}]*status="SUCCEEDED"[^}]*\} [1-9]/m);
  });
});
