import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { startLedger } from '../../apps/ledger/src/main';
import { loadConfig } from '../../libs/config/src';
import { PaymentEvent } from '../../libs/contracts/src';
import { newId } from '../../libs/domain/src';
import { LedgerBooks } from '../../libs/ledger/src';
import { EXPORT_CHUNK_BYTES, parseCsv } from '../../libs/ledger/src/exports';
import { ApiKeyService } from '../../libs/payments/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_NATS_URL, TestNamespace, createTestNamespace } from '../support/jetstream-namespace';

/**
 * The export API end to end in one process: GraphQL on the gateway → NATS request/reply →
 * the ledger writes the file → `GET /exports/:id` on the gateway streams it back from the ledger.
 */
describe('ledger exports over GraphQL and GET /exports/:id (in-process gateway and ledger)', () => {
  let db: TestDatabase;
  let ns: TestNamespace;
  let dir: string;
  let ledger: INestMicroservice;
  let gateway: NestFastifyApplication;
  const keys = { export: '', read: '' };
  const PAYMENTS = 3000; // 6000 NetSuite rows: several download chunks

  beforeAll(async () => {
    db = await createTestDatabase();
    ns = await createTestNamespace();
    dir = await mkdtemp(join(tmpdir(), 'ledger-export-api-'));
    const config = loadConfig({
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: ns.subjects.namespace,
      DB_POOL_SIZE: '4',
      LOG_LEVEL: 'silent',
      LEDGER_EXPORT_DIR: dir,
    });
    ledger = await startLedger(config);
    gateway = await NestFactory.create<NestFastifyApplication>(
      GatewayModule.forRoot(config),
      new FastifyAdapter(),
      { logger: false },
    );
    await gateway.init();
    await gateway.getHttpAdapter().getInstance().ready();
    const apiKeys = new ApiKeyService(db.dataSource, 0);
    keys.export = (await apiKeys.create('finance-export', ['ledger:export'])).key;
    keys.read = (await apiKeys.create('finance-read', ['ledger:read'])).key;

    const events: PaymentEvent[] = [];
    for (let i = 0; i < PAYMENTS; i++) {
      const amount = 1 + ((i * 7919) % 100_000);
      events.push({
        v: 1,
        eventId: newId('evt'),
        type: 'succeeded',
        occurredAt: new Date(Date.UTC(2026, 8, 1 + (i % 28), 12)).toISOString(),
        amount,
        payment: {
          id: newId('pay'),
          clientId: 'cli',
          status: 'SUCCEEDED',
          amount,
          currency: 'USD',
          amountCaptured: amount,
          amountRefunded: 0,
          processor: 'simulator',
          processorReference: null,
        },
      });
    }
    await new LedgerBooks(db.dataSource).applyBatch(events);
  });

  afterAll(async () => {
    await gateway?.close();
    await ledger?.close();
    await ns?.drop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const http = () => gateway.getHttpAdapter().getInstance();

  async function gql(query: string, variables: object, key?: string) {
    const response = await http().inject({
      method: 'POST',
      url: '/graphql',
      headers: {
        'content-type': 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      payload: { query, variables },
    });
    return response.json() as {
      data?: Record<string, Record<string, unknown> | null>;
      errors?: Array<{ extensions?: { code?: string } }>;
    };
  }

  const REQUEST = `mutation($input: LedgerExportInput!) { requestLedgerExport(input: $input) {
    id format status downloadPath entryCount lineCount totalDebits totalCredits } }`;
  const GET = `query($id: ID!) { ledgerExport(id: $id) {
    id format status downloadPath entryCount lineCount totalDebits totalCredits
    totalDebitsMinor totalCreditsMinor attempts } }`;
  const input = {
    format: 'NETSUITE_CSV',
    from: '2026-09-01T00:00:00Z',
    to: '2026-10-01T00:00:00Z',
    currency: 'USD',
  };
  const codes = (r: { errors?: Array<{ extensions?: { code?: string } }> }) =>
    (r.errors ?? []).map((e) => e.extensions?.code);

  it('needs a key with ledger:export to request or read an export', async () => {
    expect(codes(await gql(REQUEST, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(REQUEST, { input }, keys.read))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(GET, { id: `lex_${'0'.repeat(26)}` }, keys.read))).toEqual([
      'FORBIDDEN',
    ]);
  });

  it('refuses a period that ends before it starts, and an unknown currency', async () => {
    const bad = await gql(REQUEST, { input: { ...input, to: input.from } }, keys.export);
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    const cur = await gql(REQUEST, { input: { ...input, currency: 'XXX' } }, keys.export);
    expect(codes(cur)).toEqual(['BAD_USER_INPUT']);
  });

  it('requests an export, reports its totals, and serves the file with 401/403/200', async () => {
    const requested = await gql(REQUEST, { input }, keys.export);
    expect(requested.errors).toBeUndefined();
    const created = requested.data!.requestLedgerExport!;
    expect(created).toMatchObject({ format: 'NETSUITE_CSV', downloadPath: null });
    expect(['pending', 'running', 'completed']).toContain(created.status);

    let done: Record<string, unknown> | null = null;
    for (let i = 0; i < 100 && done?.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      done = (await gql(GET, { id: created.id }, keys.export)).data!.ledgerExport;
    }
    const [tb] = await db.dataSource.query(
      `SELECT sum(amount)::int AS total FROM journal_lines WHERE direction = 'debit'`,
    );
    expect(done).toEqual({
      id: created.id,
      format: 'NETSUITE_CSV',
      status: 'completed',
      downloadPath: `/exports/${created.id as string}`,
      entryCount: PAYMENTS,
      lineCount: PAYMENTS * 2,
      totalDebits: tb.total,
      totalCredits: tb.total,
      totalDebitsMinor: tb.total,
      totalCreditsMinor: tb.total,
      attempts: 1,
    });
    expect(await gql(GET, { id: `lex_${'0'.repeat(26)}` }, keys.export)).toEqual({
      data: { ledgerExport: null },
    });

    const url = done!.downloadPath as string;
    expect((await http().inject({ method: 'GET', url })).statusCode).toBe(401);
    const wrongKey = { authorization: 'Bearer not-a-key' };
    expect((await http().inject({ method: 'GET', url, headers: wrongKey })).statusCode).toBe(401);
    const readOnly = { authorization: `Bearer ${keys.read}` };
    expect((await http().inject({ method: 'GET', url, headers: readOnly })).statusCode).toBe(403);
    const ok = await http().inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${keys.export}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/csv/);
    expect(ok.headers['content-disposition']).toBe(`attachment; filename="${created.id}.csv"`);
    const onDisk = readFileSync(join(dir, `${created.id as string}.csv`));
    expect(onDisk.length).toBeGreaterThan(2 * EXPORT_CHUNK_BYTES); // served in several chunks
    expect(ok.rawPayload.equals(onDisk)).toBe(true);
    expect(parseCsv(ok.body)).toHaveLength(PAYMENTS * 2 + 1);

    const missing = await http().inject({
      method: 'GET',
      url: `/exports/lex_${'0'.repeat(26)}`,
      headers: { authorization: `Bearer ${keys.export}` },
    });
    expect(missing.statusCode).toBe(404);

    // The file removed on the ledger's disk (retention): 404, not a broken 200.
    await rm(join(dir, `${created.id as string}.csv`));
    const gone = await http().inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${keys.export}` },
    });
    expect(gone.statusCode).toBe(404);
  });
});
