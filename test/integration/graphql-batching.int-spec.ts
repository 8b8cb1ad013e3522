import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { loadConfig } from '../../libs/config/src';
import { newId } from '../../libs/domain/src';
import { ApiKeyService } from '../../libs/payments/src';
import { TestDatabase, createTestDatabase, uniqueName } from '../support/database';
import { TEST_NATS_URL } from '../support/jetstream-namespace';
import { Subjects } from '../../libs/contracts/src';
import { connectNats } from '../../libs/messaging/src';
import { jetstreamManager } from '@nats-io/jetstream';

const QUERY = `query($first: Int) { payments(first: $first) { edges { node {
  id status attempts { id operation outcome } refunds { id amount } } } } }`;

describe('GraphQL nested fields are batched (in-process gateway)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let key: string;
  const namespace = uniqueName('t');

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: namespace,
      LOG_LEVEL: 'silent',
      API_KEY_CACHE_MS: '600000', // the measured requests must all find the key cached
    });
    app = await NestFactory.create<NestFastifyApplication>(
      GatewayModule.forRoot(config),
      new FastifyAdapter(),
      { logger: false },
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const created = await new ApiKeyService(db.dataSource, 0).create('batching', ['payments:read']);
    key = created.key;
    await seedPayments(db.dataSource, created.client.id, 120);
  });

  afterAll(async () => {
    await app?.close();
    const nc = await connectNats(TEST_NATS_URL, 'jest');
    const jsm = await jetstreamManager(nc);
    for (const s of Object.values(new Subjects(namespace).streams))
      await jsm.streams.delete(s.name).catch(() => undefined);
    await nc.drain();
    await db.drop();
  });

  async function countQueries(
    first: number,
  ): Promise<{ queries: number; payments: number; attempts: number }> {
    const dataSource = app.get(DataSource);
    const spy = jest.spyOn(dataSource, 'query');
    const response = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: { query: QUERY, variables: { first } },
      });
    // The outbox relay polls in the background on the same DataSource: not part of the request.
    const queries = spy.mock.calls.filter(([sql]) => !String(sql).includes('FROM outbox')).length;
    spy.mockRestore();
    const body = response.json();
    expect(body.errors).toBeUndefined();
    const edges = body.data.payments.edges as { node: { attempts: unknown[] } }[];
    return {
      queries,
      payments: edges.length,
      attempts: edges.reduce((n, e) => n + e.node.attempts.length, 0),
    };
  }

  it('costs the same number of queries for 10 and for 100 payments with attempts and refunds', async () => {
    await countQueries(1); // warms the API-key cache so every measured request costs the same
    const ten = await countQueries(10);
    const hundred = await countQueries(100);
    expect(ten.payments).toBe(10);
    expect(hundred.payments).toBe(100);
    expect(hundred.attempts).toBe(200);
    expect(hundred.queries).toBe(ten.queries);
    expect(hundred.queries).toBe(3); // the page, all attempts, all refunds
  });
});

async function seedPayments(
  dataSource: DataSource,
  clientId: string,
  count: number,
): Promise<void> {
  const ids = Array.from({ length: count }, () => newId('pay'));
  await dataSource.query(
    `INSERT INTO payments (id, client_id, status, amount, currency, capture_method, priority, payment_method)
     SELECT id, $2, 'SUCCEEDED', 1000, 'USD', 'AUTOMATIC', 'CHECKOUT', 'sim_ok' FROM unnest($1::text[]) AS id`,
    [ids, clientId],
  );
  for (const n of [1, 2]) {
    await dataSource.query(
      `INSERT INTO payment_attempts (id, payment_id, processor, operation, attempt_number, idempotency_key, outcome)
       SELECT 'att_' || substr(md5(id || $2), 1, 26), id, 'simulator', 'authorize', $2::int, id || ':authorize:' || $2, 'succeeded'
       FROM unnest($1::text[]) AS id`,
      [ids, n],
    );
  }
}
