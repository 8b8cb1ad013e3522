// Webhooks as the source of truth, end to end: the fake Stripe posts signed events to the
// gateway's /webhooks/stripe; the gateway verifies and stores them once; the worker applies them.
import { FakeStripe, signStripePayload, startFakeStripe } from '../fakes/stripe';
import { dataOf, gql, waitFor } from '../support/graphql';
import { createPayment, waitForStatus } from '../support/payments-api';
import { Stack, printLogsIfFailed, startStack, stopAllStacks } from '../support/stack';
import { settableWebhookTarget } from '../support/stripe-webhooks';

jest.setTimeout(120_000);

const STRIPE_KEY = 'sk_test_e2eWebhooks';
const OLD_SECRET = 'whsec_old_e2e';
const SECRET = 'whsec_new_e2e';

let stack: Stack;
let fake: FakeStripe;
let key: string;
let adminKey: string;

beforeAll(async () => {
  const target = settableWebhookTarget(SECRET);
  fake = await startFakeStripe({ rateLimitPerSec: 10_000, secretKey: STRIPE_KEY, webhook: target });
  stack = await startStack({
    env: {
      STRIPE_SECRET_KEY: STRIPE_KEY,
      // Rotation: both secrets are accepted while the old one is phased out.
      STRIPE_WEBHOOK_SECRET: `${OLD_SECRET},${SECRET}`,
      STRIPE_API_BASE: fake.baseUrl,
      SIMULATOR_WEBHOOK_SECRET: 'whsec_sim_e2e',
    },
  });
  target.setUrl(`${stack.url}/webhooks/stripe`);
  key = await stack.createApiKey('merchant', ['payments:read', 'payments:write']);
  adminKey = await stack.createApiKey('ops', ['admin']);
});

afterEach(() => printLogsIfFailed(stack));
afterAll(async () => {
  await stopAllStacks();
  await fake?.stop();
});

let seq = 0;
function stripeEvent(type = 'payment_intent.processing'): string {
  return JSON.stringify({
    id: `evt_e2e_${Date.now()}_${seq++}`,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: `pi_e2e_${seq}`, object: 'payment_intent', metadata: {} } },
  });
}

function post(body: string, headers: Record<string, string>, path = '/webhooks/stripe') {
  return fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

async function counts(): Promise<{ events: number; outbox: number }> {
  const [row] = await stack.dataSource.query(
    `SELECT (SELECT count(*)::int FROM webhook_events) AS events,
            (SELECT count(*)::int FROM outbox WHERE subject LIKE '%.cmd.webhook') AS outbox`,
  );
  return row;
}

describe('POST /webhooks/stripe: signatures', () => {
  it('a valid signature: 200, stored once with its command', async () => {
    const before = await counts();
    const body = stripeEvent();
    const response = await post(body, { 'stripe-signature': signStripePayload(body, SECRET) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, duplicate: false });
    expect(await counts()).toEqual({ events: before.events + 1, outbox: before.outbox + 1 });
  });

  it('the old secret of a rotation still verifies', async () => {
    const body = stripeEvent();
    const response = await post(body, { 'stripe-signature': signStripePayload(body, OLD_SECRET) });
    expect(response.status).toBe(200);
  });

  it('a repeat of a stored event: 200 duplicate, nothing new', async () => {
    const body = stripeEvent();
    const signature = signStripePayload(body, SECRET);
    expect((await post(body, { 'stripe-signature': signature })).status).toBe(200);
    const before = await counts();
    const again = await post(body, { 'stripe-signature': signStripePayload(body, SECRET) });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ received: true, duplicate: true });
    expect(await counts()).toEqual(before);
  });

  const refused: [string, () => [string, Record<string, string>]][] = [
    [
      'a tampered body',
      () => {
        const body = stripeEvent();
        return [
          body.replace('payment_intent', 'payment_intenT'),
          { 'stripe-signature': signStripePayload(body, SECRET) },
        ];
      },
    ],
    [
      'a wrong secret',
      () => {
        const body = stripeEvent();
        return [body, { 'stripe-signature': signStripePayload(body, 'whsec_wrong') }];
      },
    ],
    [
      'a stale timestamp (over 300 s)',
      () => {
        const body = stripeEvent();
        const old = Math.floor(Date.now() / 1000) - 301;
        return [body, { 'stripe-signature': signStripePayload(body, SECRET, old) }];
      },
    ],
    ['a missing header', () => [stripeEvent(), {}]],
    [
      'a header without v1',
      () => [stripeEvent(), { 'stripe-signature': `t=${Math.floor(Date.now() / 1000)}` }],
    ],
    [
      'malformed JSON (signed)',
      () => {
        const body = '{"id": "evt_broken", ';
        return [body, { 'stripe-signature': signStripePayload(body, SECRET) }];
      },
    ],
  ];

  it.each(refused)('%s: 400 invalid_signature, nothing stored', async (_name, make) => {
    const before = await counts();
    const [body, headers] = make();
    const response = await post(body, headers);
    expect(response.status).toBe(400);
    const json = await response.json();
    expect(json).toMatchObject({ error: 'invalid_signature', message: expect.any(String) });
    expect(JSON.stringify(json)).not.toMatch(/whsec_/);
    expect(await counts()).toEqual(before);
  });

  // Fastify refuses it while reading, before any route code: 413, like every other route.
  it('a body over 256 KiB: refused (413), nothing stored', async () => {
    const before = await counts();
    const body = JSON.stringify({ id: 'evt_big', pad: 'x'.repeat(300 * 1024) });
    const response = await post(body, { 'stripe-signature': signStripePayload(body, SECRET) });
    expect(response.status).toBe(413);
    expect(await counts()).toEqual(before);
  });

  it('an unknown processor path: 404', async () => {
    const body = stripeEvent();
    const response = await post(body, {}, '/webhooks/paypal');
    expect(response.status).toBe(404);
  });

  it('/graphql still parses JSON bodies', async () => {
    const response = await gql<{ __typename: string }>(stack.graphqlUrl, key, '{ __typename }');
    expect(response.body.errors).toBeUndefined();
  });
});

describe('webhooks move payments', () => {
  it('3-D Secure: REQUIRES_ACTION, then the emitted webhook after the challenge makes it SUCCEEDED', async () => {
    const created = await createPayment(stack, key, {
      amount: 4200,
      currency: 'EUR',
      paymentMethod: 'pm_card_threeDSecure2Required',
    });
    const waiting = await waitForStatus(stack, key, created.id, 'REQUIRES_ACTION');
    expect(waiting.processor).toBe('stripe');
    fake.completeThreeDS(waiting.processorReference as string, 'succeed');
    await fake.settleWebhooks();
    const done = await waitForStatus(stack, key, created.id, 'SUCCEEDED');
    expect(done).toMatchObject({ amountCaptured: 4200, nextAction: null });
    const [applied] = await stack.dataSource.query(
      `SELECT status FROM webhook_events WHERE type = 'payment_intent.succeeded'
         AND payload->'data'->'object'->>'id' = $1`,
      [waiting.processorReference],
    );
    expect(applied).toEqual({ status: 'applied' });
    const events = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE subject LIKE '%.evt.succeeded'
         AND payload->'payment'->>'id' = $1`,
      [created.id],
    );
    expect(events[0].n).toBe(1);
  });

  it('webhookEvents lists stored events (admin only) and replayWebhookEvent re-applies idempotently', async () => {
    const list = `query($filter: WebhookEventFilter) { webhookEvents(first: 5, filter: $filter) {
      edges { cursor node { id processor type status attempts } } pageInfo { hasNextPage endCursor } } }`;
    const filter = { processor: 'stripe', type: 'payment_intent.succeeded', status: 'applied' };
    const forbidden = await gql(stack.graphqlUrl, key, list, { filter });
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const page = dataOf(
      await gql<{ webhookEvents: { edges: { node: { id: string; status: string } }[] } }>(
        stack.graphqlUrl,
        adminKey,
        list,
        { filter },
      ),
    ).webhookEvents;
    expect(page.edges.length).toBeGreaterThan(0);
    const { id } = page.edges[0].node;
    const outboxBefore = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE subject LIKE '%.evt.%'`,
    );
    const replay = dataOf(
      await gql<{ replayWebhookEvent: { id: string; status: string } }>(
        stack.graphqlUrl,
        adminKey,
        `mutation($id: ID!) { replayWebhookEvent(id: $id, reason: "e2e check") { id status } }`,
        { id },
      ),
    ).replayWebhookEvent;
    expect(replay).toEqual({ id, status: 'received' });
    await waitFor(
      async () =>
        (await stack.dataSource.query(`SELECT status FROM webhook_events WHERE id = $1`, [id]))[0]
          .status === 'applied',
      { what: 'replayed event applied again' },
    );
    const outboxAfter = await stack.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE subject LIKE '%.evt.%'`,
    );
    expect(outboxAfter[0].n).toBe(outboxBefore[0].n);
    const [auditRow] = await stack.dataSource.query(
      `SELECT actor, action, reason FROM audit_log WHERE subject = $1`,
      [`webhook:${id}`],
    );
    expect(auditRow).toEqual({ actor: 'ops', action: 'replayWebhookEvent', reason: 'e2e check' });
  });
});
