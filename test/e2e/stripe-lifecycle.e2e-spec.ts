// Payments on Stripe end to end: GraphQL → gateway → NATS → worker → Stripe adapter (official
// SDK behind the resilience stack) → the stateful fake Stripe API in this process. Bare pm_
// tokens route to Stripe only; gpm_ payment methods route Stripe first, then the simulator.
import { dataOf, gql } from '../support/graphql';
import {
  CANCEL_PAYMENT,
  CAPTURE_PAYMENT,
  Payment,
  REFUND_PAYMENT,
  Refund,
  createPayment,
  newKey,
  waitForPayment,
  waitForStatus,
} from '../support/payments-api';
import { Stack, printLogsIfFailed, stopAllStacks } from '../support/stack';
import {
  createPaymentMethod,
  getRoutedPayment,
  routePreview,
  startStripeStack,
} from '../support/stripe-stack';
import { FakeStripe } from '../fakes/stripe';

jest.setTimeout(120_000);

let stack: Stack;
let fake: FakeStripe;
let key: string;

beforeAll(async () => {
  ({ stack, fake } = await startStripeStack());
  key = await stack.createApiKey('merchant-stripe', [
    'payments:read',
    'payments:write',
    'refunds:write',
  ]);
});

afterEach(() => printLogsIfFailed(stack));
afterAll(async () => {
  await stopAllStacks();
  await fake?.stop();
});

function onStripe(paymentMethod: string, overrides: Record<string, unknown> = {}) {
  return createPayment(stack, key, { paymentMethod, amount: 4200, currency: 'usd', ...overrides });
}

describe('authorize on Stripe with bare pm_ tokens', () => {
  it('pm_card_visa: SUCCEEDED on stripe with a pi_ reference and exactly one charge at Stripe', async () => {
    const created = await onStripe('pm_card_visa');
    expect(created.status).toBe('PENDING');
    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    expect(done).toMatchObject({
      processor: 'stripe',
      amount: 4200,
      amountCaptured: 4200,
      currency: 'USD',
      failure: null,
      nextAction: null,
    });
    expect(done.processorReference).toMatch(/^pi_/);
    expect(done.attempts).toEqual([
      expect.objectContaining({
        processor: 'stripe',
        operation: 'authorize',
        outcome: 'succeeded',
        errorKind: null,
      }),
    ]);
    expect(fake.chargesFor(created.id)).toBe(1);
    const intent = fake.paymentIntent(done.processorReference!);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 4200, currency: 'usd' });
    expect(intent!.metadata.payment_id).toBe(created.id);
    expect(await stack.chargeCount(created.id)).toBe(0);
  });

  it('pm_card_chargeDeclinedInsufficientFunds: FAILED, card_declined, soft (retryable)', async () => {
    const created = await onStripe('pm_card_chargeDeclinedInsufficientFunds');
    const failed = await waitForStatus(stack, key, created.id, 'FAILED');
    expect(failed.processor).toBe('stripe');
    expect(failed.failure).toMatchObject({
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      retryable: true,
    });
    expect(failed.amountCaptured).toBe(0);
    // A decline is an answer, not a processor failure: one attempt, no retry, no failover.
    expect(failed.attempts).toEqual([
      expect.objectContaining({ processor: 'stripe', outcome: 'failed', errorKind: 'declined' }),
    ]);
    expect(fake.chargesFor(created.id)).toBe(0);
  });

  it('pm_card_chargeDeclinedStolenCard: FAILED, card_declined, hard (not retryable)', async () => {
    const created = await onStripe('pm_card_chargeDeclinedStolenCard');
    const failed = await waitForStatus(stack, key, created.id, 'FAILED');
    expect(failed.failure).toMatchObject({
      code: 'card_declined',
      declineCode: 'stolen_card',
      retryable: false,
    });
    expect(failed.attempts).toHaveLength(1);
    expect(fake.chargesFor(created.id)).toBe(0);
  });

  it('pm_card_threeDSecure2Required: REQUIRES_ACTION with a nextAction for the customer', async () => {
    const created = await onStripe('pm_card_threeDSecure2Required');
    const waiting = await waitForStatus(stack, key, created.id, 'REQUIRES_ACTION');
    expect(waiting.processor).toBe('stripe');
    expect(waiting.processorReference).toMatch(/^pi_/);
    expect(waiting.nextAction).not.toBeNull();
    expect(waiting.nextAction!.type.length).toBeGreaterThan(0);
    // The front end needs the client secret (or a redirect) to run the authentication.
    expect(waiting.nextAction!.clientSecret ?? waiting.nextAction!.redirectUrl).toBeTruthy();
    expect(waiting.amountCaptured).toBe(0);
    expect(fake.paymentIntent(waiting.processorReference!)?.status).toBe('requires_action');
  });
});

describe('capture, cancel and refunds on Stripe', () => {
  async function mutate<T>(document: string, input: Record<string, unknown>): Promise<T> {
    return dataOf(
      await gql<T>(stack.graphqlUrl, key, document, {
        input: { idempotencyKey: newKey(), ...input },
      }),
    );
  }

  it('manual capture of part of the authorization: AUTHORIZED → SUCCEEDED with the partial amount', async () => {
    const created = await onStripe('pm_card_visa', { amount: 10_000, captureMethod: 'MANUAL' });
    const authorized = await waitForStatus(stack, key, created.id, 'AUTHORIZED');
    expect(authorized).toMatchObject({ processor: 'stripe', amountCaptured: 0 });
    expect(fake.paymentIntent(authorized.processorReference!)?.status).toBe('requires_capture');

    await mutate<{ capturePayment: Payment }>(CAPTURE_PAYMENT, {
      paymentId: created.id,
      amount: 6_000,
    });
    const captured = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    expect(captured.amountCaptured).toBe(6_000);
    expect(captured.attempts.map((a) => [a.operation, a.outcome])).toEqual([
      ['authorize', 'succeeded'],
      ['capture', 'succeeded'],
    ]);
    expect(fake.paymentIntent(captured.processorReference!)).toMatchObject({
      status: 'succeeded',
      amount_received: 6_000,
    });
    expect(fake.chargesFor(created.id)).toBe(1);
  });

  it('cancel of an AUTHORIZED payment: CANCELED here and at Stripe', async () => {
    const created = await onStripe('pm_card_visa', { captureMethod: 'MANUAL' });
    await waitForStatus(stack, key, created.id, 'AUTHORIZED');
    await mutate<{ cancelPayment: Payment }>(CANCEL_PAYMENT, { paymentId: created.id });
    const canceled = await waitForStatus(stack, key, created.id, 'CANCELED');
    expect(canceled.amountCaptured).toBe(0);
    expect(fake.paymentIntent(canceled.processorReference!)?.status).toBe('canceled');
  });

  it('a partial then the remaining refund: both SUCCEEDED, one Stripe refund each', async () => {
    const created = await onStripe('pm_card_visa', { amount: 5_000 });
    await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    const before = fake.refundsCreated();

    const first = (
      await mutate<{ refundPayment: Refund }>(REFUND_PAYMENT, {
        paymentId: created.id,
        amount: 1_500,
        reason: 'requested_by_customer',
      })
    ).refundPayment;
    expect(first).toMatchObject({ status: 'PENDING', amount: 1_500, currency: 'USD' });
    await waitForPayment(
      stack,
      key,
      created.id,
      (p) => p.refunds.some((r) => r.id === first.id && r.status === 'SUCCEEDED'),
      'first refund SUCCEEDED',
    );

    const rest = (
      await mutate<{ refundPayment: Refund }>(REFUND_PAYMENT, { paymentId: created.id })
    ).refundPayment;
    expect(rest.amount).toBe(3_500);
    const done = await waitForPayment(
      stack,
      key,
      created.id,
      (p) =>
        p.amountRefunded === 5_000 &&
        p.refunds.length === 2 &&
        p.refunds.every((r) => r.status === 'SUCCEEDED'),
      'both refunds SUCCEEDED',
    );
    expect(done.amountRefunded).toBe(5_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(fake.refundsCreated() - before).toBe(2);

    // Nothing more to refund: refused without reaching Stripe.
    const more = await gql(stack.graphqlUrl, key, REFUND_PAYMENT, {
      input: { idempotencyKey: newKey(), paymentId: created.id, amount: 1 },
    });
    expect(more.body.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(fake.refundsCreated() - before).toBe(2);
  });
});

describe('routing', () => {
  it('routePreview: a gpm_ goes stripe > simulator, a bare pm_ goes to stripe only, a sim_ to the simulator only', async () => {
    const method = await createPaymentMethod(stack, key, [
      { processor: 'stripe', token: 'pm_card_visa' },
      { processor: 'simulator', token: 'sim_ok' },
    ]);
    expect(method.id).toMatch(/^gpm_/);
    expect(method.processors).toEqual(['stripe', 'simulator']);

    const gpm = await routePreview(stack, key, { paymentMethod: method.id });
    expect(gpm.processors).toEqual(['stripe', 'simulator']);
    expect(gpm.rule).toBe('default');
    expect(gpm.reason).toMatch(/stripe > simulator/);

    const bare = await routePreview(stack, key, { paymentMethod: 'pm_card_visa' });
    expect(bare.processors).toEqual(['stripe']);
    expect(bare.reason).toMatch(/skipped simulator/);

    const sim = await routePreview(stack, key, { paymentMethod: 'sim_ok' });
    expect(sim.processors).toEqual(['simulator']);

    // A pin keeps only the pinned processor, and says so.
    const pinned = await routePreview(stack, key, {
      paymentMethod: method.id,
      processor: 'simulator',
    });
    expect(pinned.processors).toEqual(['simulator']);
    expect(pinned.reason).toMatch(/pinned to simulator/);
  });

  it('Payment.routing stores the decision taken at intake, and the gpm_ payment lands on Stripe first', async () => {
    const method = await createPaymentMethod(stack, key, [
      { processor: 'stripe', token: 'pm_card_visa' },
      { processor: 'simulator', token: 'sim_ok' },
    ]);
    const created = await onStripe(method.id);
    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    expect(done.processor).toBe('stripe');
    expect(fake.chargesFor(created.id)).toBe(1);
    expect(await stack.chargeCount(created.id)).toBe(0);
    const routed = await getRoutedPayment(stack, key, created.id);
    expect(routed.routing).toMatchObject({ rule: 'default', processors: ['stripe', 'simulator'] });
    expect(routed.routing!.reason).toMatch(/stripe > simulator/);

    const bare = await onStripe('pm_card_visa');
    await waitForStatus(stack, key, bare.id, 'SUCCEEDED');
    expect((await getRoutedPayment(stack, key, bare.id)).routing).toMatchObject({
      processors: ['stripe'],
    });
  });

  it('refuses a token that no configured processor issued, and a gpm_ with a foreign token', async () => {
    const unknown = await gql(
      stack.graphqlUrl,
      key,
      `mutation C($input: CreatePaymentInput!) { createPayment(input: $input) { id } }`,
      {
        input: {
          idempotencyKey: newKey(),
          amount: 100,
          currency: 'USD',
          paymentMethod: 'tok_nobody',
        },
      },
    );
    expect(unknown.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'paymentMethod',
    });
    const foreign = await gql(
      stack.graphqlUrl,
      key,
      `mutation PM($input: CreatePaymentMethodInput!) { createPaymentMethod(input: $input) { id } }`,
      {
        input: {
          idempotencyKey: newKey(),
          tokens: [{ processor: 'stripe', token: 'sim_ok' }],
        },
      },
    );
    expect(foreign.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
