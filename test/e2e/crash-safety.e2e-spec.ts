// Exactly-once money movement across crashes (DESIGN.md §5), and paymentUpdated subscriptions.
// The simulated processor answers after 1.5 s so a processor call can be caught in flight, and
// an unacknowledged command comes back after 3 s.
import { dataOf, gql, subscribe, waitFor } from '../support/graphql';
import { GET_PAYMENT, Payment, createPayment, waitForStatus } from '../support/payments-api';
import { Stack, sleep, printLogsIfFailed, startStack, stopAllStacks } from '../support/stack';

// jest.config.js sets testTimeout per project, which jest-circus ignores (it reads only the
// global option): set it here so stack start-up and slow paths get the intended 120 s.
jest.setTimeout(120_000);

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack({ env: { SIMULATOR_LATENCY_MS: '1500', WORKER_ACK_WAIT_MS: '3000' } });
  key = await stack.createApiKey('merchant', ['payments:read', 'payments:write', 'refunds:write']);
});

afterEach(() => printLogsIfFailed(stack));
afterAll(stopAllStacks);

interface AttemptRow {
  id: string;
  attempt_number: number;
  idempotency_key: string;
  outcome: string;
}

async function authorizeAttempts(paymentId: string): Promise<AttemptRow[]> {
  return stack.dataSource.query(
    `SELECT id, attempt_number, idempotency_key, outcome FROM payment_attempts
     WHERE payment_id = $1 AND operation = 'authorize' ORDER BY attempt_number`,
    [paymentId],
  );
}

async function outboxRows(
  paymentId: string,
): Promise<{ id: string; subject: string; published_at: Date | null }[]> {
  return stack.dataSource.query(
    `SELECT id, subject, published_at FROM outbox WHERE payload->>'paymentId' = $1 OR payload->'payment'->>'id' = $1 ORDER BY id`,
    [paymentId],
  );
}

describe('worker crash', () => {
  it('SIGKILL while the processor call is in flight: after restart the same attempt is re-sent; one charge', async () => {
    expect(stack.worker.running).toBe(true);
    const created = await createPayment(stack, key, { amount: 1234 });
    const [inFlight] = await waitFor(
      async () => {
        const rows = await authorizeAttempts(created.id);
        return rows.length > 0 && rows[0].outcome === 'pending' ? rows : undefined;
      },
      {
        timeoutMs: 10_000,
        intervalMs: 20,
        what: 'a pending authorize attempt',
        context: () => stack.logs.tail(),
      },
    );
    await stack.worker.kill('SIGKILL');
    // The call was cut off during the processor's latency: nothing charged, payment in PROCESSING.
    expect(await stack.chargeCount(created.id)).toBe(0);
    const [{ status }] = await stack.dataSource.query(`SELECT status FROM payments WHERE id = $1`, [
      created.id,
    ]);
    expect(status).toBe('PROCESSING');

    await stack.worker.start();
    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED', 30_000);
    expect(done.amountCaptured).toBe(1234);
    expect(await stack.chargeCount(created.id)).toBe(1);
    const attempts = await authorizeAttempts(created.id);
    expect(attempts).toEqual([
      {
        id: inFlight.id,
        attempt_number: 1,
        idempotency_key: inFlight.idempotency_key,
        outcome: 'succeeded',
      },
    ]);
  });
});

describe('outbox relay crash between commit and publish', () => {
  let paymentId: string;

  it('a committed command that was never published goes out exactly once after restart', async () => {
    await stack.worker.kill('SIGTERM');
    // Make publishing impossible: with the commands stream gone, the gateway's relay cannot
    // publish (no stream answers), so the command stays committed-but-unpublished.
    const jsm = await stack.jsm();
    await jsm.streams.delete(stack.subjects.streams.commands.name);

    const created = await createPayment(stack, key, { amount: 4321 });
    paymentId = created.id;
    await sleep(500); // the relay was nudged at once and has failed at least one pass by now
    const [command] = (await outboxRows(paymentId)).filter((r) =>
      r.subject.endsWith('.payments.cmd.authorize'),
    );
    expect(command).toBeDefined();
    expect(command.published_at).toBeNull();

    // The gateway dies before it ever published.
    await stack.gateway.kill('SIGKILL');
    expect((await outboxRows(paymentId)).find((r) => r.id === command.id)!.published_at).toBeNull();

    // The worker re-creates the streams at start and its relay publishes the leftover row.
    await stack.worker.start();
    await stack.gateway.start();
    const done = await waitForStatus(stack, key, paymentId, 'SUCCEEDED', 30_000);
    expect(done.amountCaptured).toBe(4321);
    expect(await stack.chargeCount(paymentId)).toBe(1);
    expect(await authorizeAttempts(paymentId)).toHaveLength(1);
    expect(
      (await outboxRows(paymentId)).find((r) => r.id === command.id)!.published_at,
    ).not.toBeNull();
    // The re-created commands stream received exactly this one message.
    const commands = await stack.streamInfo('commands');
    expect(commands.state.last_seq).toBe(1);
  });

  it('re-publishing an outbox row (published_at cleared) is dropped by JetStream de-duplication', async () => {
    expect(paymentId).toBeDefined();
    const rows = await outboxRows(paymentId);
    const command = rows.find((r) => r.subject.endsWith('.payments.cmd.authorize'))!;
    const event = rows.find((r) => r.subject.endsWith('.payments.evt.succeeded'))!;
    expect(command.published_at).not.toBeNull();
    expect(event.published_at).not.toBeNull();
    const commandsBefore = (await stack.streamInfo('commands')).state.last_seq;
    const eventsBefore = (await stack.streamInfo('events')).state;

    await stack.dataSource.query(`UPDATE outbox SET published_at = NULL WHERE id = ANY($1)`, [
      [command.id, event.id],
    ]);
    // A relay (gateway's or worker's) publishes them again with the same Nats-Msg-Id.
    await waitFor(
      async () =>
        (await outboxRows(paymentId)).filter(
          (r) => [command.id, event.id].includes(r.id) && r.published_at !== null,
        ).length === 2,
      {
        timeoutMs: 15_000,
        what: 'the relay to re-publish both rows',
        context: () => stack.logs.tail(),
      },
    );
    await sleep(300);

    expect((await stack.streamInfo('commands')).state.last_seq).toBe(commandsBefore);
    const eventsAfter = (await stack.streamInfo('events')).state;
    expect(eventsAfter.messages).toBe(eventsBefore.messages);
    expect(eventsAfter.last_seq).toBe(eventsBefore.last_seq);
    expect(await stack.chargeCount(paymentId)).toBe(1);
    expect(await authorizeAttempts(paymentId)).toHaveLength(1);
  });
});

const SUBSCRIPTION = `subscription($id: ID!) { paymentUpdated(id: $id) { id status amountCaptured } }`;
type Update = { paymentUpdated: { id: string; status: string; amountCaptured: number } };

describe('paymentUpdated subscription (graphql-ws)', () => {
  it('yields the current state (PENDING) first, then SUCCEEDED', async () => {
    await stack.worker.kill('SIGTERM'); // nothing moves the payment until the worker is back
    const created = await createPayment(stack, key, { amount: 999 });
    const events = subscribe<Update>(stack.wsUrl, key, SUBSCRIPTION, { id: created.id });
    try {
      await events.until((v) => Boolean(v.data?.paymentUpdated), 10_000);
      expect(events.values[0].data!.paymentUpdated).toEqual({
        id: created.id,
        status: 'PENDING',
        amountCaptured: 0,
      });

      await stack.worker.start();
      await events.until((v) => v.data?.paymentUpdated.status === 'SUCCEEDED', 30_000);
      const statuses = events.values.map((v) => v.data!.paymentUpdated.status);
      expect(statuses[0]).toBe('PENDING');
      expect(statuses.at(-1)).toBe('SUCCEEDED');
      expect(statuses.every((s) => ['PENDING', 'PROCESSING', 'SUCCEEDED'].includes(s))).toBe(true);
      expect(events.values.at(-1)!.data!.paymentUpdated.amountCaptured).toBe(999);
      expect(events.errors).toEqual([]);
    } finally {
      await events.close();
    }
    const viaQuery = dataOf(
      await gql<{ payment: Payment }>(stack.graphqlUrl, key, GET_PAYMENT, { id: created.id }),
    ).payment;
    expect(viaQuery.status).toBe('SUCCEEDED');
  });

  // Regression (fixed): errors of a subscription that fails at
  // subscribe time (the guard's UNAUTHENTICATED, the resolver's NOT_FOUND) reach the client
  // without `extensions.code`. Mercurius sends them through sendError()/toGraphQLError(), not
  // through the errorFormatter, and PaymentsError (libs/domain/src/errors.ts) has no
  // `extensions` for graphql-js to copy. The message arrives, the code does not.
  it('someone else’s payment: NOT_FOUND', async () => {
    expect(stack.worker.running).toBe(true);
    const otherKey = await stack.createApiKey('other-merchant', ['payments:read']);
    const created = await createPayment(stack, key);
    const events = subscribe<Update>(stack.wsUrl, otherKey, SUBSCRIPTION, { id: created.id });
    try {
      await Promise.race([events.done, sleep(10_000)]);
      expect(subscriptionErrorCodes(events)).toEqual(['NOT_FOUND']);
      expect(events.values.filter((v) => v.data?.paymentUpdated)).toEqual([]);
    } finally {
      await events.close();
    }
  });

  it('no API key: UNAUTHENTICATED', async () => {
    const created = await createPayment(stack, key);
    const events = subscribe<Update>(stack.wsUrl, null, SUBSCRIPTION, { id: created.id });
    try {
      await Promise.race([events.done, sleep(10_000)]);
      expect(subscriptionErrorCodes(events)).toEqual(['UNAUTHENTICATED']);
      expect(events.values.filter((v) => v.data?.paymentUpdated)).toEqual([]);
    } finally {
      await events.close();
    }
  });
});

/** Codes of the errors a subscription reported, as `error` messages or inside `next` payloads. */
function subscriptionErrorCodes(events: {
  values: { errors?: readonly unknown[] }[];
  errors: unknown[];
}): unknown[] {
  const all = [
    ...events.errors.flatMap((e) => (Array.isArray(e) ? e : [e])),
    ...events.values.flatMap((v) => v.errors ?? []),
  ];
  return all.map(
    (e) =>
      (e as { extensions?: { code?: unknown } }).extensions?.code ??
      `no code: ${JSON.stringify(e)}`,
  );
}
