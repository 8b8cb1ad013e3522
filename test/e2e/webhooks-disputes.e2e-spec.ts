// Disputes from Stripe webhooks, end to end: the fake Stripe emits charge.dispute.* for a Stripe
// payment; the gateway stores them, the worker upserts the dispute and announces it, and the API
// shows it on the payment and in `disputes`, scoped to the payment's owner.
import { FakeStripe, startFakeStripe } from '../fakes/stripe';
import { dataOf, gql, waitFor } from '../support/graphql';
import { createPayment, waitForStatus } from '../support/payments-api';
import { Stack, printLogsIfFailed, startStack, stopAllStacks } from '../support/stack';
import { stripeDispute, stripePayout } from '../support/stripe-finance-events';
import { settableWebhookTarget } from '../support/stripe-webhooks';

jest.setTimeout(120_000);

const STRIPE_KEY = 'sk_test_e2eDisputes';
const SECRET = 'whsec_disputes_e2e';

let stack: Stack;
let fake: FakeStripe;
let key: string;
let otherKey: string;
let adminKey: string;

beforeAll(async () => {
  const target = settableWebhookTarget(SECRET);
  fake = await startFakeStripe({ rateLimitPerSec: 10_000, secretKey: STRIPE_KEY, webhook: target });
  stack = await startStack({
    env: {
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_WEBHOOK_SECRET: SECRET,
      STRIPE_API_BASE: fake.baseUrl,
      SIMULATOR_WEBHOOK_SECRET: 'whsec_sim_e2e',
    },
  });
  target.setUrl(`${stack.url}/webhooks/stripe`);
  key = await stack.createApiKey('merchant', ['payments:read', 'payments:write']);
  otherKey = await stack.createApiKey('other-merchant', ['payments:read']);
  adminKey = await stack.createApiKey('ops', ['admin']);
});

afterEach(() => printLogsIfFailed(stack));
afterAll(async () => {
  await stopAllStacks();
  await fake?.stop();
});

interface DisputeNode {
  id: string;
  paymentId: string;
  status: string;
  amount: number;
  currency: string;
  reason: string | null;
  evidenceDueBy: string | null;
}
const DISPUTE_FIELDS =
  'id paymentId status amount currency reason evidenceDueBy createdAt updatedAt';

const paymentDisputes = async (apiKey: string, id: string) =>
  dataOf(
    await gql<{ payment: { disputes: DisputeNode[] } }>(
      stack.graphqlUrl,
      apiKey,
      `query($id: ID!) { payment(id: $id) { disputes { ${DISPUTE_FIELDS} } } }`,
      { id },
    ),
  ).payment.disputes;

const listDisputes = async (apiKey: string, filter: Record<string, unknown>) =>
  dataOf(
    await gql<{ disputes: { edges: { node: DisputeNode }[] } }>(
      stack.graphqlUrl,
      apiKey,
      `query($filter: DisputeFilter) { disputes(filter: $filter, first: 10) {
         edges { cursor node { ${DISPUTE_FIELDS} } } pageInfo { hasNextPage } } }`,
      { filter },
    ),
  ).disputes.edges.map((e) => e.node);

describe('disputes of a Stripe payment', () => {
  it('opened, then closed won: shown on the payment and in disputes; the payment stays SUCCEEDED', async () => {
    const created = await createPayment(stack, key, {
      amount: 3100,
      currency: 'EUR',
      paymentMethod: 'pm_card_visa',
      processor: 'stripe',
    });
    const paid = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    const intent = fake.paymentIntent(paid.processorReference!)!;
    const dispute = (status: string) =>
      stripeDispute({
        id: `dp_e2e_${created.id.slice(-10)}`,
        amount: 3100,
        currency: 'eur',
        charge: intent.latest_charge,
        payment_intent: intent.id,
        status,
      });

    const opened = await fake.emitWebhook('charge.dispute.created', dispute('needs_response'));
    expect(opened?.status).toBe(200);
    const [shown] = await waitFor(
      async () => {
        const disputes = await paymentDisputes(key, created.id);
        return disputes.length > 0 ? disputes : undefined;
      },
      { what: 'the dispute on the payment', context: () => stack.logs.tail() },
    );
    expect(shown).toMatchObject({
      id: expect.stringMatching(/^dsp_/),
      paymentId: created.id,
      status: 'NEEDS_RESPONSE',
      amount: 3100,
      currency: 'EUR',
      reason: 'fraudulent',
      evidenceDueBy: expect.any(String),
    });

    await fake.emitWebhook('charge.dispute.closed', dispute('won'));
    await waitFor(async () => (await paymentDisputes(key, created.id))[0]?.status === 'WON', {
      what: 'the dispute won',
      context: () => stack.logs.tail(),
    });
    // A late, older report changes nothing: closed disputes never reopen.
    await fake.emitWebhook('charge.dispute.updated', dispute('under_review'));
    await fake.settleWebhooks();
    await waitFor(
      async () => {
        const [row] = await stack.dataSource.query(
          `SELECT count(*)::int AS n FROM webhook_events
           WHERE payload->'data'->'object'->>'id' = $1 AND status IN ('applied', 'ignored')`,
          [dispute('won').id],
        );
        return row.n === 3;
      },
      { what: 'all three dispute events applied or ignored' },
    );
    expect((await paymentDisputes(key, created.id))[0].status).toBe('WON');
    const payment = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    expect(payment.status).toBe('SUCCEEDED');

    // The list: by payment and status; another client sees none of it, an admin sees it.
    expect(await listDisputes(key, { paymentId: created.id, status: 'WON' })).toHaveLength(1);
    expect(await listDisputes(key, { paymentId: created.id, status: 'LOST' })).toHaveLength(0);
    expect(await listDisputes(otherKey, { paymentId: created.id })).toEqual([]);
    expect(await listDisputes(adminKey, { paymentId: created.id })).toHaveLength(1);

    // The facts went out on FINANCE_EVENTS (a publish to a subject no stream holds would fail).
    await waitFor(
      async () => {
        const rows: { subject: string; published: boolean }[] = await stack.dataSource.query(
          `SELECT subject, published_at IS NOT NULL AS published FROM outbox
           WHERE payload->'dispute'->>'paymentId' = $1 ORDER BY id`,
          [created.id],
        );
        return rows.length === 2 && rows.every((r) => r.published) ? rows : undefined;
      },
      { what: 'dispute events published' },
    );
  });

  it('payout.paid from the fake is recorded as a payout', async () => {
    const payout = stripePayout();
    await fake.emitWebhook('payout.paid', payout);
    await waitFor(
      async () => {
        const [row] = await stack.dataSource.query(
          `SELECT status FROM payouts WHERE processor_reference = $1`,
          [payout.id],
        );
        return row?.status === 'PAID';
      },
      { what: 'the payout recorded', context: () => stack.logs.tail() },
    );
  });
});
