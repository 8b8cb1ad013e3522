// Client idempotency (DESIGN.md §5.1) end to end: replays, reuse with another request,
// concurrent duplicates, and idempotent capture and refund.
import { dataOf, errorCodes, gql } from '../support/graphql';
import {
  createInput,
  newKey,
  tableCounts,
  waitForPayment,
  waitForStatus,
} from '../support/payments-api';
import { Stack, printLogsIfFailed, startStack, stopAllStacks } from '../support/stack';

// jest.config.js sets testTimeout per project, which jest-circus ignores (it reads only the
// global option): set it here so stack start-up and slow paths get the intended 120 s.
jest.setTimeout(120_000);

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterEach(() => printLogsIfFailed(stack));
afterAll(stopAllStacks);

// No attempts/refunds: those are live children, not part of the stored mutation result.
const FLAT =
  'id status amount currency amountCaptured amountRefunded captureMethod processor processorReference metadata createdAt updatedAt';
const CREATE = `mutation($input: CreatePaymentInput!) { createPayment(input: $input) { ${FLAT} } }`;
const CAPTURE = `mutation($input: CapturePaymentInput!) { capturePayment(input: $input) { ${FLAT} } }`;
const REFUND = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { id paymentId status amount currency reason createdAt } }`;

type Flat = { id: string; status: string; amountCaptured: number };
const TABLES = ['payments', 'idempotency_keys', 'outbox', 'refunds', 'payment_attempts'];

async function client(name: string): Promise<string> {
  return stack.createApiKey(name, ['payments:read', 'payments:write', 'refunds:write']);
}

async function clientPayments(key: string): Promise<number> {
  const [{ n }] = await stack.dataSource.query(
    `SELECT count(*)::int AS n FROM payments p JOIN api_clients c ON c.id = p.client_id
     WHERE c.key_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')`,
    [key],
  );
  return n;
}

describe('createPayment', () => {
  it('same key and same input: the same payment, byte for byte, even after it moved on', async () => {
    const key = await client('replayer');
    const input = createInput({ metadata: { cart: 'c-9' }, description: 'two socks' });
    const first = await gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, { input });
    const payment = dataOf(first).createPayment;
    expect(payment.status).toBe('PENDING');

    const again = await gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, { input });
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);

    // After the payment SUCCEEDED, a replay still answers the stored (first) result.
    await waitForStatus(stack, key, payment.id, 'SUCCEEDED');
    const late = await gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, { input });
    expect(late.text).toBe(first.text);
    expect(await clientPayments(key)).toBe(1);
    expect(await stack.chargeCount(payment.id)).toBe(1);
  });

  it('same key with a different input: IDEMPOTENCY_KEY_REUSED and nothing written', async () => {
    const key = await client('reuser');
    const input = createInput();
    const payment = dataOf(
      await gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, { input }),
    ).createPayment;
    await waitForStatus(stack, key, payment.id, 'SUCCEEDED');
    const before = await tableCounts(stack, TABLES);

    for (const change of [
      { amount: 2501 },
      { currency: 'EUR' },
      { paymentMethod: 'sim_3ds' },
      { metadata: { a: 'b' } },
    ]) {
      const reused = await gql(stack.graphqlUrl, key, CREATE, { input: { ...input, ...change } });
      expect(errorCodes(reused)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
      expect(reused.body.errors![0].extensions!.field).toBe('idempotencyKey');
    }
    // The key also belongs to its operation: a refund under a createPayment key is a reuse.
    const otherOperation = await gql(stack.graphqlUrl, key, REFUND, {
      input: { idempotencyKey: input.idempotencyKey, paymentId: payment.id },
    });
    expect(errorCodes(otherOperation)).toEqual(['IDEMPOTENCY_KEY_REUSED']);

    expect(await tableCounts(stack, TABLES)).toEqual(before);
  });

  // Regression (fixed): libs/domain/src/card-number.ts DIGIT_RUN lets a
  // run start after any non-digit and cross '-' separators, so the dashes of a UUID v4 join
  // digit-only groups into a 13–19 digit run; when that run passes Luhn (about 1 random UUID v4
  // in 500), assertNoCardData() refuses the idempotencyKey with BAD_USER_INPUT. UUID v4 is the
  // usual idempotency key format. This key holds the run "7-4037-8910-0475" (13 digits, Luhn-valid).
  it('a UUID v4 idempotency key is accepted (card-number check false positive)', async () => {
    const key = await client('uuid-user');
    const idempotencyKey = '18ce5801-61b7-4037-8910-0475f5334d16';
    const response = await gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, {
      input: createInput({ idempotencyKey }),
    });
    expect(response.body.errors ?? []).toEqual([]);
    expect(dataOf(response).createPayment.status).toBe('PENDING');
  });

  it('keys are scoped per client: another client with the same key gets its own payment', async () => {
    const a = await client('scope-a');
    const b = await client('scope-b');
    const input = createInput();
    const pa = dataOf(
      await gql<{ createPayment: Flat }>(stack.graphqlUrl, a, CREATE, { input }),
    ).createPayment;
    const pb = dataOf(
      await gql<{ createPayment: Flat }>(stack.graphqlUrl, b, CREATE, { input }),
    ).createPayment;
    expect(pb.id).not.toBe(pa.id);
  });

  it('50 concurrent identical calls: one payment, one outbox command, one charge', async () => {
    const key = await client('stampede');
    const input = createInput({ amount: 777 });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, { input }),
      ),
    );
    const problems = responses.filter((r) => r.status !== 200 || r.body.errors);
    expect(problems.map((r) => r.text)).toEqual([]);
    const ids = new Set(responses.map((r) => dataOf(r).createPayment.id));
    expect(ids.size).toBe(1);
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    const [id] = [...ids];

    expect(await clientPayments(key)).toBe(1);
    const [{ n: commands }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE subject LIKE '%.payments.cmd.authorize' AND payload->>'paymentId' = $1`,
      [id],
    );
    expect(commands).toBe(1);
    await waitForStatus(stack, key, id, 'SUCCEEDED');
    expect(await stack.chargeCount(id)).toBe(1);
  });

  it('concurrent creates stored together: each its own payment; a key reused with another input at the same moment is refused alone', async () => {
    const key = await client('together');
    const shared = newKey();
    const inputs = [
      ...Array.from({ length: 20 }, (_, i) => createInput({ amount: 1000 + i })),
      createInput({ idempotencyKey: shared, amount: 500 }),
      createInput({ idempotencyKey: shared, amount: 501 }),
    ];
    const responses = await Promise.all(
      inputs.map((input) => gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, { input })),
    );
    const created = responses.slice(0, 20).map((r) => dataOf(r).createPayment);
    expect(new Set(created.map((p) => p.id)).size).toBe(20);
    expect(created.map((p) => (p as Flat & { amount: number }).amount)).toEqual(
      inputs.slice(0, 20).map((i) => i.amount),
    );
    // one of the two with the shared key wins; the other is a reuse with another request
    const sharedAnswers = responses.slice(20);
    expect(sharedAnswers.filter((r) => !r.body.errors)).toHaveLength(1);
    expect(sharedAnswers.flatMap((r) => errorCodes(r))).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await clientPayments(key)).toBe(21);
    const [{ n: commands }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE subject LIKE '%.payments.cmd.authorize'
         AND payload->>'paymentId' = ANY($1)`,
      [created.map((p) => p.id)],
    );
    expect(commands).toBe(20);
  });
});

describe('capturePayment and refundPayment', () => {
  it('capture replay: same stored answer, one capture at the processor; another amount is a reuse', async () => {
    const key = await client('capturer');
    const created = dataOf(
      await gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, {
        input: createInput({ captureMethod: 'MANUAL', amount: 4000 }),
      }),
    ).createPayment;
    await waitForStatus(stack, key, created.id, 'AUTHORIZED');

    const input = { idempotencyKey: newKey('cap'), paymentId: created.id, amount: 1500 };
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () =>
        gql<{ capturePayment: Flat }>(stack.graphqlUrl, key, CAPTURE, { input }),
      ),
    );
    expect(concurrent.map((r) => r.body.errors ?? null)).toEqual(concurrent.map(() => null));
    expect(new Set(concurrent.map((r) => r.text)).size).toBe(1);

    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    expect(done.amountCaptured).toBe(1500);
    // A late replay still answers the stored result instead of INVALID_STATE.
    const late = await gql(stack.graphqlUrl, key, CAPTURE, { input });
    expect(late.text).toBe(concurrent[0].text);
    const reused = await gql(stack.graphqlUrl, key, CAPTURE, { input: { ...input, amount: 1600 } });
    expect(errorCodes(reused)).toEqual(['IDEMPOTENCY_KEY_REUSED']);

    expect(done.attempts.filter((a) => a.operation === 'capture')).toHaveLength(1);
    const [{ n }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE subject LIKE '%.payments.cmd.capture' AND payload->>'paymentId' = $1`,
      [created.id],
    );
    expect(n).toBe(1);
  });

  it('refund replay: the same refund id, no second refund row', async () => {
    const key = await client('refunder');
    const created = dataOf(
      await gql<{ createPayment: Flat }>(stack.graphqlUrl, key, CREATE, {
        input: createInput({ amount: 3000 }),
      }),
    ).createPayment;
    await waitForStatus(stack, key, created.id, 'SUCCEEDED');

    const input = {
      idempotencyKey: newKey('ref'),
      paymentId: created.id,
      amount: 1000,
      reason: 'late delivery',
    };
    const first = await gql<{ refundPayment: { id: string; status: string } }>(
      stack.graphqlUrl,
      key,
      REFUND,
      { input },
    );
    const refund = dataOf(first).refundPayment;
    expect(refund.status).toBe('PENDING');
    const replays = await Promise.all(
      Array.from({ length: 10 }, () =>
        gql<{ refundPayment: { id: string } }>(stack.graphqlUrl, key, REFUND, { input }),
      ),
    );
    for (const replay of replays) expect(replay.text).toBe(first.text);

    const done = await waitForPayment(
      stack,
      key,
      created.id,
      // Payment fields and refunds are read by separate queries: wait until both show it.
      (p) =>
        p.amountRefunded === 1000 &&
        p.refunds.length > 0 &&
        p.refunds.every((r) => r.status === 'SUCCEEDED'),
      'refund SUCCEEDED',
    );
    expect(done.refunds.map((r) => r.id)).toEqual([refund.id]);
    expect(done.amountRefunded).toBe(1000);
    const after = await gql(stack.graphqlUrl, key, REFUND, { input });
    expect(after.text).toBe(first.text);
    const [{ n }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM refunds WHERE payment_id = $1`,
      [created.id],
    );
    expect(n).toBe(1);
    expect(
      errorCodes(await gql(stack.graphqlUrl, key, REFUND, { input: { ...input, amount: 999 } })),
    ).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });
});
