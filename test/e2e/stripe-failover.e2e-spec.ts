// Stripe behind circuit breakers, priority rate limits and safe retries, and routing with
// failover that never double-charges (DESIGN.md §5-6). The fake Stripe runs in this process;
// faults are injected there. Counters on both sides prove money moved exactly once.
import { dataOf, errorCodes, gql, waitFor } from '../support/graphql';
import {
  Payment,
  REFUND_PAYMENT,
  Refund,
  createPayment,
  getPayment,
  newKey,
  waitForPayment,
  waitForStatus,
} from '../support/payments-api';
import { Stack, printLogsIfFailed, sleep, stopAllStacks } from '../support/stack';
import {
  createPaymentMethod,
  pauseProcessor,
  processorHealth,
  resumeProcessor,
  startStripeStack,
  waitForAllSettled,
} from '../support/stripe-stack';
import { FakeStripe } from '../fakes/stripe';

jest.setTimeout(120_000);

let stack: Stack;
let fake: FakeStripe;
let key: string;
let adminKey: string;
/** A gateway payment method with a token at Stripe and at the simulator. */
let gpm: string;

beforeAll(async () => {
  ({ stack, fake } = await startStripeStack({
    env: {
      // Long enough that processorHealth (published every second) sees the breaker open.
      BREAKER_RESET_MS: '2000',
      // A command whose worker died comes back after this (kill tests).
      WORKER_ACK_WAIT_MS: '5000',
    },
  }));
  key = await stack.createApiKey('merchant-failover', [
    'payments:read',
    'payments:write',
    'refunds:write',
  ]);
  adminKey = await stack.createApiKey('ops-admin', ['admin']);
  gpm = (
    await createPaymentMethod(stack, key, [
      { processor: 'stripe', token: 'pm_card_visa' },
      { processor: 'simulator', token: 'sim_ok' },
    ])
  ).id;
});

afterEach(async () => {
  printLogsIfFailed(stack);
  // A failed test must not leave its fault behind for the next one.
  if (fake?.faults.current) await fake.faults.set(null);
});
afterAll(async () => {
  await stopAllStacks();
  await fake?.stop();
});

async function getPaymentRefunds(paymentId: string): Promise<Refund[]> {
  return (await getPayment(stack, key, paymentId)).refunds;
}

/**
 * Waits out an open breaker: once it is half-open, a gpm_ payment is the probe (it fails over
 * safely if refused), until the breaker reads closed.
 */
async function stripeBreakerClosed(): Promise<void> {
  await waitFor(
    async () => {
      const state = (await stripeHealth())?.breakerState;
      if (state === 'closed') return true;
      if (state === 'half_open') {
        const probe = await createPayment(stack, key, { paymentMethod: gpm });
        await waitForStatus(stack, key, probe.id, 'SUCCEEDED');
      }
      return false;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: 'stripe breaker closed' },
  );
}

function stripeHealth() {
  return processorHealth(stack, key, 'stripe');
}

async function authorizeAttempts(paymentId: string) {
  return stack.dataSource.query(
    `SELECT id, processor, attempt_number, idempotency_key, outcome, error_kind FROM payment_attempts
     WHERE payment_id = $1 AND operation = 'authorize' ORDER BY attempt_number`,
    [paymentId],
  ) as Promise<
    {
      id: string;
      processor: string;
      attempt_number: number;
      idempotency_key: string;
      outcome: string;
      error_kind: string | null;
    }[]
  >;
}

/** Money moved exactly once, at the expected processor, for each payment. */
async function expectChargedOnlyAt(payments: readonly Payment[], where: 'stripe' | 'simulator') {
  for (const p of payments) {
    expect([p.id, p.processor]).toEqual([p.id, where]);
    expect([p.id, fake.chargesFor(p.id)]).toEqual([p.id, where === 'stripe' ? 1 : 0]);
    expect([p.id, await stack.chargeCount(p.id)]).toEqual([p.id, where === 'simulator' ? 1 : 0]);
  }
}

describe('circuit breaker and failover of gpm_ payments', () => {
  it('Stripe charges then drops the connection: the payment stays at Stripe and status sync (same key) finds it SUCCEEDED; one charge, nothing at the simulator', async () => {
    // Twice: the SDK's own re-send of a closed connection is dropped too, so only our status
    // sync (a later re-send with the same idempotency key) can learn the outcome.
    await fake.faults.set({
      kind: 'dropAfterProcessing',
      times: 2,
      paths: /^\/v1\/payment_intents$/,
    });
    const intentsBefore = fake.paymentIntentsCreated();
    const created = await createPayment(stack, key, { paymentMethod: gpm, amount: 7_777 });
    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED', 20_000);

    expect(done).toMatchObject({ processor: 'stripe', amountCaptured: 7_777 });
    expect(done.processorReference).toMatch(/^pi_/);
    expect(fake.chargesFor(created.id)).toBe(1);
    expect(fake.paymentIntentsCreated() - intentsBefore).toBe(1);
    expect(await stack.chargeCount(created.id)).toBe(0);

    const attempts = await authorizeAttempts(created.id);
    // One attempt, never failed over: the same key was re-sent until Stripe answered.
    expect(attempts).toEqual([
      expect.objectContaining({ processor: 'stripe', attempt_number: 1, outcome: 'succeeded' }),
    ]);
    expect(fake.requestsByIdempotencyKey(attempts[0].idempotency_key)).toBeGreaterThanOrEqual(3);
  });

  it('Stripe failing with 5xx + Should-Retry: payments fail over to the simulator, the breaker opens, then closes after recovery and Stripe takes payments again', async () => {
    await fake.faults.set({ kind: 'error500', shouldRetry: true });
    const stripeRequestsBefore = fake.requestCount();

    // Enough failing calls inside the window to open the breaker (BREAKER_MIN_VOLUME = 5).
    const first = await Promise.all(
      Array.from({ length: 6 }, () => createPayment(stack, key, { paymentMethod: gpm })),
    );
    const failedOver = await Promise.all(
      first.map((p) => waitForStatus(stack, key, p.id, 'SUCCEEDED')),
    );
    await expectChargedOnlyAt(failedOver, 'simulator');
    for (const p of failedOver) {
      // Stripe was tried and refused before processing anything; the simulator took over.
      expect(p.attempts.at(-1)).toMatchObject({ processor: 'simulator', outcome: 'succeeded' });
      for (const a of p.attempts.filter((x) => x.processor === 'stripe')) {
        expect(a).toMatchObject({ outcome: 'failed', errorKind: 'unavailable' });
      }
    }
    expect(fake.requestCount()).toBeGreaterThan(stripeRequestsBefore);

    const open = await waitFor(
      async () => {
        const h = await stripeHealth();
        return h?.breakerState === 'open' ? h : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'stripe breakerState open' },
    );
    expect(open.errorRate).toBeGreaterThan(0.5);

    // While open, new gpm_ payments skip Stripe entirely and end on the simulator.
    const requestsWhileOpen = fake.requestCount();
    const during = await createPayment(stack, key, { paymentMethod: gpm });
    const duringDone = await waitForStatus(stack, key, during.id, 'SUCCEEDED');
    await expectChargedOnlyAt([duringDone], 'simulator');
    expect(duringDone.attempts.map((a) => a.processor)).toEqual(['simulator']);
    expect(fake.requestCount()).toBe(requestsWhileOpen);

    // Stripe recovers: after BREAKER_RESET_MS a half-open probe succeeds and Stripe is back.
    await fake.faults.set(null);
    const backOnStripe = await waitFor(
      async () => {
        const p = await createPayment(stack, key, { paymentMethod: gpm });
        const done = await waitForPayment(
          stack,
          key,
          p.id,
          (x) => x.status === 'SUCCEEDED' || x.status === 'FAILED',
          'settled',
        );
        expect(done.status).toBe('SUCCEEDED');
        if (done.processor !== 'stripe') {
          await expectChargedOnlyAt([done], 'simulator');
          await sleep(300);
          return undefined;
        }
        return done;
      },
      { timeoutMs: 15_000, intervalMs: 0, what: 'a gpm_ payment on stripe again' },
    );
    await expectChargedOnlyAt([backOnStripe], 'stripe');
    await waitFor(async () => (await stripeHealth())?.breakerState === 'closed', {
      timeoutMs: 5_000,
      what: 'stripe breakerState closed',
    });
  });

  it('a re-send after an unknown outcome refused locally (breaker open) keeps the outcome unknown: never fails over, never charges twice', async () => {
    // Regression: Stripe processes every authorize and then drops the connection, so each
    // outcome is unknown and those timeouts open the breaker (BREAKER_MIN_VOLUME = 5). The
    // status sync re-sends the SAME attempt 300 ms later and the open breaker refuses it
    // before anything is sent. That refusal says nothing about the first send: the attempt
    // must stay unknown at Stripe, never fail over to the simulator.
    await fake.faults.set({ kind: 'dropAfterProcessing', paths: /^\/v1\/payment_intents$/ });
    const created = await Promise.all(
      Array.from({ length: 6 }, () => createPayment(stack, key, { paymentMethod: gpm })),
    );
    await waitFor(
      async () => {
        const rows = await Promise.all(created.map((p) => authorizeAttempts(p.id)));
        return rows.every((r) => r.length > 0 && r[0].outcome !== 'pending');
      },
      { timeoutMs: 10_000, what: 'every first attempt answered (unknown)' },
    );
    const settled = await waitForAllSettled(
      stack,
      key,
      created.map((p) => p.id),
      8_000,
    ).catch(() => null);
    await fake.faults.set(null);
    const charges = await Promise.all(
      created.map(async (p) => ({
        id: p.id,
        stripe: fake.chargesFor(p.id),
        simulator: await stack.chargeCount(p.id),
      })),
    );
    // Exactly one charge per payment, across every processor, whatever the payment's status.
    expect(charges.filter((c) => c.stripe + c.simulator !== 1)).toEqual([]);
    // And a payment Stripe charged stays at Stripe.
    for (const p of settled ?? []) if (p.status === 'SUCCEEDED') expect(p.processor).toBe('stripe');
  });

  it('the same for refunds: Stripe refunded, the re-send meets the open breaker, and the refund is never reported FAILED', async () => {
    await stripeBreakerClosed(); // the previous test left it open
    const paid = await Promise.all(
      Array.from({ length: 6 }, () => createPayment(stack, key, { paymentMethod: 'pm_card_visa' })),
    );
    await Promise.all(paid.map((p) => waitForStatus(stack, key, p.id, 'SUCCEEDED', 20_000)));
    const refundsBefore = fake.refundsCreated();
    await fake.faults.set({ kind: 'dropAfterProcessing', paths: /^\/v1\/refunds$/ });
    const refunds = await Promise.all(
      paid.map(
        async (p) =>
          dataOf(
            await gql<{ refundPayment: Refund }>(stack.graphqlUrl, key, REFUND_PAYMENT, {
              input: { idempotencyKey: newKey(), paymentId: p.id, amount: 1_000 },
            }),
          ).refundPayment,
      ),
    );
    await waitFor(async () => fake.refundsCreated() - refundsBefore >= refunds.length, {
      timeoutMs: 10_000,
      what: 'Stripe to process every refund',
    });
    await sleep(3_000); // re-sends (300 ms) meet the open breaker; retries run out
    await fake.faults.set(null);
    const states = await Promise.all(
      paid.map(async (p) => (await getPaymentRefunds(p.id)).map((r) => r.status)),
    );
    // Stripe refunded each one exactly once: none may be reported FAILED.
    expect(fake.refundsCreated() - refundsBefore).toBe(refunds.length);
    expect(states.flat().filter((s) => s === 'FAILED')).toEqual([]);
  });

  it('a bare pm_ token during a Stripe outage never goes to the simulator: FAILED processor_unavailable after PROCESSOR_MAX_ATTEMPTS, no charge anywhere', async () => {
    await fake.faults.set({ kind: 'outage' });
    const bare = await createPayment(stack, key, { paymentMethod: 'pm_card_visa' });
    const viaGpm = await createPayment(stack, key, { paymentMethod: gpm });

    const failed = await waitForStatus(stack, key, bare.id, 'FAILED', 20_000);
    expect(failed.failure).toMatchObject({ code: 'processor_unavailable', retryable: true });
    expect(failed.attempts).toHaveLength(3); // PROCESSOR_MAX_ATTEMPTS default
    for (const a of failed.attempts) {
      expect(a).toMatchObject({ processor: 'stripe', outcome: 'failed', errorKind: 'unavailable' });
    }
    expect(fake.chargesFor(bare.id)).toBe(0);
    expect(await stack.chargeCount(bare.id)).toBe(0);

    // The same outage with a gpm_: connection refused is known not processed, so it fails over.
    const moved = await waitForStatus(stack, key, viaGpm.id, 'SUCCEEDED', 20_000);
    await expectChargedOnlyAt([moved], 'simulator');
    await fake.faults.set(null);
  });
});

describe('operator pause', () => {
  it('pauseProcessor needs admin: FORBIDDEN for a merchant key, nothing changes', async () => {
    const refused = await pauseProcessor(stack, key, 'stripe', 'not mine to pause');
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    const [{ n }] = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE subject = 'processor:stripe'`,
    );
    expect(n).toBe(0);
  });

  it('pause stripe (audited): processorHealth shows it paused, gpm_ payments go to the simulator; resume: back to Stripe', async () => {
    const paused = dataOf(await pauseProcessor(stack, adminKey, 'stripe', 'stripe incident 42'));
    expect(paused.pauseProcessor).toMatchObject({
      processor: 'stripe',
      paused: true,
      reason: 'stripe incident 42',
      changedBy: 'ops-admin',
    });
    const health = await waitFor(
      async () => {
        const h = await stripeHealth();
        return h?.paused ? h : undefined;
      },
      { timeoutMs: 5_000, what: 'stripe paused in processorHealth' },
    );
    expect(health).toMatchObject({ pauseReason: 'stripe incident 42', breakerState: 'open' });

    const [row] = await stack.dataSource.query(
      `SELECT actor, action, subject, before, after, reason FROM audit_log
       WHERE subject = 'processor:stripe' AND action = 'pauseProcessor'`,
    );
    expect(row).toMatchObject({
      actor: 'ops-admin',
      action: 'pauseProcessor',
      reason: 'stripe incident 42',
      after: { paused: true, reason: 'stripe incident 42' },
    });

    const requestsBefore = fake.requestCount();
    const during = await createPayment(stack, key, { paymentMethod: gpm });
    const duringDone = await waitForStatus(stack, key, during.id, 'SUCCEEDED');
    await expectChargedOnlyAt([duringDone], 'simulator');
    expect(duringDone.attempts.map((a) => a.processor)).toEqual(['simulator']);
    expect(fake.requestCount()).toBe(requestsBefore);

    const resumed = dataOf(await resumeProcessor(stack, adminKey, 'stripe', 'incident over'));
    expect(resumed.resumeProcessor).toMatchObject({ processor: 'stripe', paused: false });
    await waitFor(
      async () => {
        const h = await stripeHealth();
        return h && !h.paused && h.breakerState === 'closed';
      },
      { timeoutMs: 5_000, what: 'stripe resumed in processorHealth' },
    );
    const after = await createPayment(stack, key, { paymentMethod: gpm });
    await expectChargedOnlyAt([await waitForStatus(stack, key, after.id, 'SUCCEEDED')], 'stripe');

    const actions = await stack.dataSource.query(
      `SELECT action FROM audit_log WHERE subject = 'processor:stripe' ORDER BY created_at, id`,
    );
    expect(actions.map((a: { action: string }) => a.action)).toEqual([
      'pauseProcessor',
      'resumeProcessor',
    ]);
  });
});

describe('rate limits', () => {
  it('a 429 storm: every payment still SUCCEEDS, one PaymentIntent each, and CHECKOUT finishes ahead of BACKGROUND', async () => {
    fake.setRateLimit(5);
    const limitedBefore = fake.rateLimitedCount();
    try {
      const inputs = Array.from({ length: 60 }, (_, i) => ({
        paymentMethod: 'pm_card_visa',
        amount: 1_000 + i,
        priority: i % 2 === 0 ? 'CHECKOUT' : 'BACKGROUND',
      }));
      const created = await Promise.all(inputs.map((input) => createPayment(stack, key, input)));
      const settled = await waitForAllSettled(
        stack,
        key,
        created.map((p) => p.id),
        90_000,
      );
      const byStatus = settled.reduce<Record<string, number>>(
        (acc, p) => ({ ...acc, [p.status]: (acc[p.status] ?? 0) + 1 }),
        {},
      );
      const failures = settled
        .filter((p) => p.status !== 'SUCCEEDED')
        .map((p) => ({ id: p.id, status: p.status, failure: p.failure, attempts: p.attempts }));
      expect({ byStatus, failures: failures.slice(0, 3) }).toEqual({
        byStatus: { SUCCEEDED: 60 },
        failures: [],
      });
      expect(fake.rateLimitedCount()).toBeGreaterThan(limitedBefore); // the storm happened
      for (const p of settled) expect([p.id, fake.chargesFor(p.id)]).toEqual([p.id, 1]);

      const duration = (p: Payment) =>
        new Date(p.updatedAt).getTime() - new Date(p.createdAt).getTime();
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const checkout = settled.filter((_, i) => i % 2 === 0).map(duration);
      const background = settled.filter((_, i) => i % 2 === 1).map(duration);
      expect(median(checkout)).toBeLessThan(median(background));
    } finally {
      fake.setRateLimit(10_000);
    }
  });
});

describe('worker killed mid-call', () => {
  async function attemptRows(paymentId: string, operation: string) {
    return stack.dataSource.query(
      `SELECT idempotency_key, attempt_number, outcome FROM payment_attempts
       WHERE payment_id = $1 AND operation = $2 ORDER BY attempt_number`,
      [paymentId, operation],
    ) as Promise<{ idempotency_key: string; attempt_number: number; outcome: string }[]>;
  }

  /** Waits until the attempt is claimed and its request has reached the fake Stripe. */
  async function inFlight(paymentId: string, operation: string) {
    return waitFor(
      async () => {
        const [row] = await attemptRows(paymentId, operation);
        return row?.outcome === 'pending' && fake.requestsByIdempotencyKey(row.idempotency_key) > 0
          ? row
          : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, what: `${operation} in flight at Stripe` },
    );
  }

  it('authorize: SIGKILL while Stripe is answering slowly; after restart the same key is re-sent and there is one PaymentIntent', async () => {
    await fake.faults.set({ kind: 'latency', ms: 1_500 });
    const intentsBefore = fake.paymentIntentsCreated();
    const created = await createPayment(stack, key, { paymentMethod: 'pm_card_visa' });
    const attempt = await inFlight(created.id, 'authorize');
    await stack.worker.kill('SIGKILL');
    await fake.faults.set(null);
    await stack.worker.start();

    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED', 30_000);
    expect(done.processor).toBe('stripe');
    expect(fake.chargesFor(created.id)).toBe(1);
    expect(fake.paymentIntentsCreated() - intentsBefore).toBe(1);
    expect(fake.requestsByIdempotencyKey(attempt.idempotency_key)).toBeGreaterThanOrEqual(2);
    expect(await attemptRows(created.id, 'authorize')).toEqual([
      { idempotency_key: attempt.idempotency_key, attempt_number: 1, outcome: 'succeeded' },
    ]);
  });

  it('refund: SIGKILL mid-call; after restart exactly one refund exists at Stripe', async () => {
    const created = await createPayment(stack, key, { paymentMethod: 'pm_card_visa' });
    await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    const refundsBefore = fake.refundsCreated();

    await fake.faults.set({ kind: 'latency', ms: 1_500, paths: /^\/v1\/refunds$/ });
    const refund = dataOf(
      await gql<{ refundPayment: Refund }>(stack.graphqlUrl, key, REFUND_PAYMENT, {
        input: { idempotencyKey: newKey(), paymentId: created.id, amount: 1_000 },
      }),
    ).refundPayment;
    const attempt = await inFlight(created.id, 'refund');
    await stack.worker.kill('SIGKILL');
    await fake.faults.set(null);
    await stack.worker.start();

    const done = await waitForPayment(
      stack,
      key,
      created.id,
      (p) =>
        p.amountRefunded === 1_000 &&
        p.refunds.some((r) => r.id === refund.id && r.status === 'SUCCEEDED'),
      'refund SUCCEEDED after restart',
      30_000,
    );
    expect(done.amountRefunded).toBe(1_000);
    expect(fake.refundsCreated() - refundsBefore).toBe(1);
    expect(fake.requestsByIdempotencyKey(attempt.idempotency_key)).toBeGreaterThanOrEqual(2);
    expect(await attemptRows(created.id, 'refund')).toEqual([
      expect.objectContaining({ attempt_number: 1, outcome: 'succeeded' }),
    ]);
  });
});
