import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import { startLedger } from '../../apps/ledger/src/main';
import { loadConfig } from '../../libs/config/src';
import { PaymentEvent } from '../../libs/contracts/src';
import { newId } from '../../libs/domain/src';
import { LedgerBooks } from '../../libs/ledger/src';
import { postReconciliationCorrection } from '../../libs/ledger/src/reconciliation/correction-posting';
import { ApiKeyService } from '../../libs/payments/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_NATS_URL, TestNamespace, createTestNamespace } from '../support/jetstream-namespace';

/**
 * The reconciliation operations API end to end in one process: GraphQL on the gateway → NATS
 * request/reply → apps/ledger → SQL. Items and exceptions are seeded with SQL (the engine's
 * output), so these tests pin the operator side whatever the matching does.
 */
describe('reconciliation operations over GraphQL (in-process gateway and ledger)', () => {
  let db: TestDatabase;
  let ns: TestNamespace;
  let ledger: INestMicroservice;
  let gateway: NestFastifyApplication;
  const keys = { read: '', admin: '', payments: '' };
  let adminClientId = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    ns = await createTestNamespace();
    const config = loadConfig({
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: ns.subjects.namespace,
      DB_POOL_SIZE: '4',
      LOG_LEVEL: 'silent',
      RECONCILIATION_METRICS_INTERVAL_MS: '1000',
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
    keys.read = (await apiKeys.create('finance-read', ['ledger:read'])).key;
    const admin = await apiKeys.create('finance-admin', ['admin']);
    keys.admin = admin.key;
    adminClientId = admin.client.id;
    keys.payments = (await apiKeys.create('checkout', ['payments:read'])).key;

    // Real books to correct: a few stripe USD sales (receivable:stripe:USD has a balance).
    await new LedgerBooks(db.dataSource).applyBatch([sale(2000), sale(3500), sale(700)]);
  });

  afterAll(async () => {
    await gateway?.close();
    await ledger?.close();
    await ns?.drop();
    await db?.drop();
  });

  function sale(amount: number): PaymentEvent {
    return {
      v: 1,
      eventId: newId('evt'),
      type: 'succeeded',
      occurredAt: '2026-11-01T12:00:00.000Z',
      amount,
      payment: {
        id: newId('pay'),
        clientId: 'cli',
        status: 'SUCCEEDED',
        amount,
        currency: 'USD',
        amountCaptured: amount,
        amountRefunded: 0,
        processor: 'stripe',
        processorReference: null,
      },
    };
  }

  // ── seeding (what the engine writes) ──────────────────────────────────────────────────────

  interface ItemSeed {
    status: string;
    processor?: string;
    currency?: string;
    kind?: string;
    amountAtStake?: number;
    occurredAt?: string;
    paymentId?: string | null;
    processorAmount?: number | null;
    processorFee?: number | null;
    ledgerAmount?: number | null;
    ledgerFee?: number | null;
  }

  async function seedItem(seed: ItemSeed): Promise<string> {
    const [{ id }] = await db.dataSource.query(
      `INSERT INTO reconciliation_items (processor, item_key, kind, currency, payment_id,
         source_reference, balance_transaction_count, processor_amount, processor_fee,
         processor_currency, gateway_amount, ledger_amount, ledger_fee, status, amount_at_stake,
         occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $4, $7, $9, $10, $11, $12, $13) RETURNING id`,
      [
        seed.processor ?? 'stripe',
        newId('evt'),
        seed.kind ?? 'charge',
        seed.currency ?? 'USD',
        seed.paymentId === undefined ? newId('pay') : seed.paymentId,
        `ch_${newId('evt')}`,
        seed.processorAmount === undefined ? 2000 : seed.processorAmount,
        seed.processorFee === undefined ? 59 : seed.processorFee,
        seed.ledgerAmount === undefined ? 2000 : seed.ledgerAmount,
        seed.ledgerFee === undefined ? 59 : seed.ledgerFee,
        seed.status,
        seed.amountAtStake ?? 0,
        seed.occurredAt ?? '2026-11-01T12:00:00Z',
      ],
    );
    return String(id);
  }

  async function seedException(
    seed: ItemSeed & { exceptionStatus?: string; openedAt?: string; id?: string },
  ): Promise<{ id: string; itemId: string }> {
    const itemId = await seedItem(seed);
    const id = seed.id ?? newId('rex');
    const closed = seed.exceptionStatus && seed.exceptionStatus !== 'open';
    await db.dataSource.query(
      `INSERT INTO reconciliation_exceptions (id, item_id, type, status, processor, currency,
         amount_at_stake, opened_at, resolved_at, resolved_by, resolution_reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::timestamptz, now()), $9, $10, $11)`,
      [
        id,
        itemId,
        seed.status,
        seed.exceptionStatus ?? 'open',
        seed.processor ?? 'stripe',
        seed.currency ?? 'USD',
        seed.amountAtStake ?? 0,
        seed.openedAt ?? null,
        closed ? new Date() : null,
        closed ? 'cli_someone' : null,
        closed ? 'seeded as closed' : null,
      ],
    );
    await db.dataSource.query(
      `INSERT INTO reconciliation_exception_audit (exception_id, action, actor, reason, details)
       VALUES ($1, 'opened', 'reconciliation', $2, '{"run":null}')`,
      [id, `${seed.status} found`],
    );
    return { id, itemId };
  }

  // ── GraphQL ───────────────────────────────────────────────────────────────────────────────

  const http = () => gateway.getHttpAdapter().getInstance();

  type Gql = {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
  };

  async function gql(query: string, variables: object, key?: string): Promise<Gql> {
    const response = await http().inject({
      method: 'POST',
      url: '/graphql',
      headers: {
        'content-type': 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      payload: { query, variables },
    });
    return response.json() as Gql;
  }

  const codes = (r: Gql) => (r.errors ?? []).map((e) => e.extensions?.code);

  const SUMMARY = `query($period: ReconciliationPeriodInput!, $processor: String, $currency: String) {
    reconciliationSummary(period: $period, processor: $processor, currency: $currency) {
      from to processor currency itemCount openExceptionCount
      byStatus { status currency count amountAtStake }
      totals { currency itemCount amountAtStake openExceptionCount openAmountAtStake } } }`;

  const EXCEPTIONS = `query($filter: ReconciliationExceptionFilter, $first: Int, $after: String) {
    reconciliationExceptions(filter: $filter, first: $first, after: $after) {
      edges { cursor node { id type status processor currency amountAtStake openedAt ageSeconds
        resolvedAt resolvedBy resolutionReason correctionSourceId
        item { kind status paymentId refundId disputeId payoutId processorAmount processorFee
               gatewayAmount ledgerAmount ledgerFee amountAtStake occurredAt }
        audit { action actor reason details at } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

  const RESOLVE = `mutation($input: ResolveReconciliationExceptionInput!) {
    resolveReconciliationException(input: $input) {
      id status resolvedAt resolvedBy resolutionReason correctionSourceId
      audit { action actor reason details } } }`;

  type Node = Record<string, unknown> & { item: Record<string, unknown>; audit: unknown[] };
  const nodesOf = (r: Gql) =>
    (r.data!.reconciliationExceptions as { edges: Array<{ node: Node }> }).edges.map((e) => e.node);

  async function entriesFor(sourceEventId: string) {
    return db.dataSource.query(
      `SELECT e.kind, e.payment_id, a.code, l.direction, l.amount::int AS amount
         FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
         JOIN ledger_accounts a ON a.id = l.account_id
        WHERE e.source_event_id = $1 ORDER BY l.line_no`,
      [sourceEventId],
    ) as Promise<
      Array<{ kind: string; payment_id: string; code: string; direction: string; amount: number }>
    >;
  }

  async function postedBalance(code: string): Promise<number> {
    const [row] = await db.dataSource.query(
      `SELECT (b.posted_debits - b.posted_credits)::int AS balance
         FROM ledger_accounts a JOIN account_balances b ON b.account_id = a.id WHERE a.code = $1`,
      [code],
    );
    return row ? Number(row.balance) : 0;
  }

  async function writes() {
    const [row] = await db.dataSource.query(
      `SELECT (SELECT count(*) FROM journal_entries)::int AS entries,
              (SELECT count(*) FROM reconciliation_exception_audit)::int AS audit,
              (SELECT count(*) FROM reconciliation_exceptions WHERE status <> 'open')::int AS closed`,
    );
    return row as { entries: number; audit: number; closed: number };
  }

  // ── summary ───────────────────────────────────────────────────────────────────────────────

  it('summarises a period per status and currency: counts, amounts at stake, open exceptions', async () => {
    const inSeptember = '2026-09-10T10:00:00Z';
    for (let i = 0; i < 3; i++) await seedItem({ status: 'matched', occurredAt: inSeptember });
    await seedException({ status: 'fee_mismatch', amountAtStake: 29, occurredAt: inSeptember });
    await seedException({ status: 'amount_mismatch', amountAtStake: 100, occurredAt: inSeptember });
    await seedException({
      status: 'amount_mismatch',
      amountAtStake: 50,
      occurredAt: inSeptember,
      exceptionStatus: 'resolved',
    });
    await seedException({
      status: 'missing_in_ledger',
      currency: 'EUR',
      amountAtStake: 2000,
      occurredAt: '2026-09-30T23:59:59.999Z',
    });
    await seedItem({ status: 'matched', processor: 'simulator', occurredAt: inSeptember });
    // Outside the period (its end is exclusive): counted nowhere.
    await seedException({
      status: 'duplicate',
      amountAtStake: 5,
      occurredAt: '2026-10-01T00:00:00Z',
    });
    await seedItem({ status: 'matched', occurredAt: '2026-08-31T23:59:59Z' });

    const period = { from: '2026-09-01T00:00:00Z', to: '2026-10-01T00:00:00Z' };
    const all = await gql(SUMMARY, { period }, keys.read);
    expect(all.errors).toBeUndefined();
    expect(all.data!.reconciliationSummary).toEqual({
      from: '2026-09-01T00:00:00.000Z',
      to: '2026-10-01T00:00:00.000Z',
      processor: null,
      currency: null,
      itemCount: 8,
      openExceptionCount: 3,
      byStatus: [
        { status: 'MISSING_IN_LEDGER', currency: 'EUR', count: 1, amountAtStake: 2000 },
        { status: 'AMOUNT_MISMATCH', currency: 'USD', count: 2, amountAtStake: 150 },
        { status: 'FEE_MISMATCH', currency: 'USD', count: 1, amountAtStake: 29 },
        { status: 'MATCHED', currency: 'USD', count: 4, amountAtStake: 0 },
      ],
      totals: [
        {
          currency: 'EUR',
          itemCount: 1,
          amountAtStake: 2000,
          openExceptionCount: 1,
          openAmountAtStake: 2000,
        },
        {
          currency: 'USD',
          itemCount: 7,
          amountAtStake: 179,
          openExceptionCount: 2,
          openAmountAtStake: 129,
        },
      ],
    });

    const stripeUsd = await gql(
      SUMMARY,
      { period, processor: 'stripe', currency: 'usd' },
      keys.read,
    );
    const s = stripeUsd.data!.reconciliationSummary as Record<string, unknown>;
    expect(s).toMatchObject({ processor: 'stripe', currency: 'USD', itemCount: 6 });
    expect(s.byStatus).toContainEqual({
      status: 'MATCHED',
      currency: 'USD',
      count: 3,
      amountAtStake: 0,
    });
    expect(s.totals).toHaveLength(1);

    const empty = await gql(
      SUMMARY,
      { period: { from: '2020-01-01T00:00:00Z', to: '2020-02-01T00:00:00Z' } },
      keys.read,
    );
    expect(empty.data!.reconciliationSummary).toMatchObject({
      itemCount: 0,
      openExceptionCount: 0,
      byStatus: [],
      totals: [],
    });
  });

  it('refuses a backwards period or an unknown currency as BAD_USER_INPUT, and needs ledger:read', async () => {
    const period = { from: '2026-09-01T00:00:00Z', to: '2026-09-01T00:00:00Z' };
    const backwards = await gql(SUMMARY, { period }, keys.read);
    expect(codes(backwards)).toEqual(['BAD_USER_INPUT']);
    expect(backwards.errors![0].extensions!.field).toBe('from');
    const currency = await gql(
      SUMMARY,
      { period: { ...period, to: '2026-10-01T00:00:00Z' }, currency: 'XXX' },
      keys.read,
    );
    expect(codes(currency)).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(SUMMARY, { period }, keys.payments))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(SUMMARY, { period }))).toEqual(['UNAUTHENTICATED']);
  });

  // ── exception queue ───────────────────────────────────────────────────────────────────────

  it('pages the queue oldest first with cursors, and filters by status, type, currency and opening time', async () => {
    const processor = 'pager';
    const t = (minutes: number) => new Date(Date.UTC(2026, 10, 20, 0, minutes)).toISOString();
    const sameInstant = '2026-11-20T00:30:00.123456Z';
    const seeded = [
      await seedException({ processor, status: 'fee_mismatch', amountAtStake: 10, openedAt: t(0) }),
      await seedException({
        processor,
        status: 'amount_mismatch',
        amountAtStake: 20,
        openedAt: t(10),
      }),
      await seedException({
        processor,
        status: 'missing_in_ledger',
        currency: 'EUR',
        amountAtStake: 30,
        openedAt: sameInstant,
      }),
      await seedException({
        processor,
        status: 'duplicate',
        amountAtStake: 40,
        openedAt: sameInstant,
      }),
      await seedException({
        processor,
        status: 'fee_mismatch',
        amountAtStake: 50,
        openedAt: t(60),
      }),
      await seedException({
        processor,
        status: 'fee_mismatch',
        amountAtStake: 60,
        openedAt: t(90),
        exceptionStatus: 'ignored',
      }),
    ];
    // Same opened_at: ordered by id. Seeded ids are increasing (monotonic ULIDs).
    const expectedOrder = seeded.map((s) => s.id);

    const collected: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await gql(EXCEPTIONS, { filter: { processor }, first: 2, after }, keys.read);
      expect(page.errors).toBeUndefined();
      const connection = page.data!.reconciliationExceptions as {
        edges: Array<{ node: Node }>;
        pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
      };
      collected.push(...connection.edges.map((e) => e.node.id as string));
      expect(connection.pageInfo.hasPreviousPage).toBe(after !== null);
      pages++;
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(collected).toEqual(expectedOrder);

    const open = nodesOf(
      await gql(EXCEPTIONS, { filter: { processor, status: 'OPEN' }, first: 100 }, keys.read),
    );
    expect(open.map((n) => n.id)).toEqual(expectedOrder.slice(0, 5));
    const ignored = nodesOf(
      await gql(EXCEPTIONS, { filter: { processor, status: 'IGNORED' } }, keys.read),
    );
    expect(ignored.map((n) => n.id)).toEqual([seeded[5].id]);
    expect(ignored[0]).toMatchObject({ status: 'IGNORED', resolvedBy: 'cli_someone' });
    const fees = nodesOf(
      await gql(
        EXCEPTIONS,
        { filter: { processor, type: 'FEE_MISMATCH', status: 'OPEN' } },
        keys.read,
      ),
    );
    expect(fees.map((n) => n.id)).toEqual([seeded[0].id, seeded[4].id]);
    const euros = nodesOf(
      await gql(EXCEPTIONS, { filter: { processor, currency: 'eur' } }, keys.read),
    );
    expect(euros.map((n) => n.id)).toEqual([seeded[2].id]);
    const window = nodesOf(
      await gql(
        EXCEPTIONS,
        { filter: { processor, openedAfter: t(10), openedBefore: t(60) } },
        keys.read,
      ),
    );
    expect(window.map((n) => n.id)).toEqual([seeded[1].id, seeded[2].id, seeded[3].id]);

    // Each node: age, amount at stake, the item, the audit trail.
    const [first] = open;
    const expectedAge = (Date.now() - Date.parse(t(0))) / 1000;
    expect(first).toMatchObject({
      type: 'FEE_MISMATCH',
      status: 'OPEN',
      processor,
      currency: 'USD',
      amountAtStake: 10,
      openedAt: t(0),
      resolvedAt: null,
      correctionSourceId: null,
      item: {
        kind: 'charge',
        status: 'FEE_MISMATCH',
        processorAmount: 2000,
        processorFee: 59,
        gatewayAmount: 2000,
        ledgerAmount: 2000,
        ledgerFee: 59,
        amountAtStake: 10,
        refundId: null,
      },
      audit: [
        expect.objectContaining({
          action: 'opened',
          actor: 'reconciliation',
          reason: 'fee_mismatch found',
          details: { run: null },
        }),
      ],
    });
    expect(first.item.paymentId).toMatch(/^pay_/);
    expect(Math.abs((first.ageSeconds as number) - expectedAge)).toBeLessThan(30);
  });

  it('refuses a foreign cursor, an oversized page and a filter type MATCHED as BAD_USER_INPUT', async () => {
    const badCursor = await gql(EXCEPTIONS, { after: 'bm90LWEtY3Vyc29y' }, keys.read);
    expect(codes(badCursor)).toEqual(['BAD_USER_INPUT']);
    expect(badCursor.errors![0].extensions!.field).toBe('after');
    const big = await gql(EXCEPTIONS, { first: 1000 }, keys.read);
    expect(codes(big)).toEqual(['BAD_USER_INPUT']);
    expect(big.errors![0].extensions!.field).toBe('first');
    // MATCHED is no exception type: the schema itself refuses it.
    expect(codes(await gql(EXCEPTIONS, { filter: { type: 'MATCHED' } }, keys.read))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await gql(EXCEPTIONS, {}, keys.payments))).toEqual(['FORBIDDEN']);
  });

  // ── resolution ────────────────────────────────────────────────────────────────────────────

  it('resolves with a correction: one balanced entry through the books, suspense moved, audited; a retry books nothing more', async () => {
    const { id } = await seedException({
      status: 'fee_mismatch',
      amountAtStake: 29,
      processorFee: 59,
      ledgerFee: 30,
    });
    const receivableBefore = await postedBalance('receivable:stripe:USD');
    const suspenseBefore = await postedBalance('suspense:USD');
    const input = {
      id,
      resolution: 'RESOLVED',
      reason: 'Stripe raised its fee; books corrected, finance will reclassify',
      postCorrection: true,
    };
    const resolved = await gql(RESOLVE, { input }, keys.admin);
    expect(resolved.errors).toBeUndefined();
    expect(resolved.data!.resolveReconciliationException).toMatchObject({
      id,
      status: 'RESOLVED',
      resolvedBy: adminClientId,
      resolutionReason: input.reason,
      correctionSourceId: `${id}:correction`,
    });
    const audit = (resolved.data!.resolveReconciliationException as Node).audit;
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({
      action: 'resolved',
      actor: adminClientId,
      reason: input.reason,
      details: {
        correction: {
          sourceEventId: `${id}:correction`,
          debitAccount: 'suspense:USD',
          creditAccount: 'receivable:stripe:USD',
          amount: 29,
          currency: 'USD',
          booked: true,
        },
      },
    });

    const lines = await entriesFor(`${id}:correction`);
    expect(lines.map((l) => [l.kind, l.code, l.direction, l.amount])).toEqual([
      ['reconciliation_correction', 'suspense:USD', 'debit', 29],
      ['reconciliation_correction', 'receivable:stripe:USD', 'credit', 29],
    ]);
    expect(await postedBalance('suspense:USD')).toBe(suspenseBefore + 29);
    expect(await postedBalance('receivable:stripe:USD')).toBe(receivableBefore - 29);

    // The same request again: refused (it is no longer open), and nothing more is booked.
    const retry = await gql(RESOLVE, { input }, keys.admin);
    expect(codes(retry)).toEqual(['INVALID_STATE']);
    expect(await entriesFor(`${id}:correction`)).toHaveLength(2);
    // Even booking the same planned correction again (a lower-level retry) books nothing.
    const planned = postReconciliationCorrection(
      {
        exceptionId: id,
        type: 'fee_mismatch',
        kind: 'charge',
        processor: 'stripe',
        currency: 'USD',
        paymentId: null,
        processorAmount: 2000,
        processorFee: 59,
        ledgerAmount: 2000,
        ledgerFee: 30,
      },
      new Date().toISOString(),
    );
    const books = new LedgerBooks(db.dataSource);
    expect(await db.dataSource.transaction((tx) => books.bookPlanned(tx, [planned]))).toBe(0);
    expect(await postedBalance('suspense:USD')).toBe(suspenseBefore + 29);

    const tb = await gql(
      `{ trialBalance(currency: "USD") { debits credits balanced } }`,
      {},
      keys.read,
    );
    expect(tb.data!.trialBalance).toMatchObject({ balanced: true });
  });

  it('two operators resolving the same exception at once: one wins, one gets INVALID_STATE, one entry', async () => {
    const { id } = await seedException({
      status: 'missing_in_ledger',
      amountAtStake: 1500,
      processorAmount: 1500,
      processorFee: 0,
      ledgerAmount: null,
      ledgerFee: null,
    });
    const input = { id, resolution: 'RESOLVED', reason: 'webhook lost', postCorrection: true };
    const answers = await Promise.all([
      gql(RESOLVE, { input }, keys.admin),
      gql(RESOLVE, { input }, keys.admin),
    ]);
    expect(answers.map(codes).flat().sort()).toEqual(['INVALID_STATE']);
    const lines = await entriesFor(`${id}:correction`);
    expect(lines.map((l) => [l.code, l.direction, l.amount])).toEqual([
      ['receivable:stripe:USD', 'debit', 1500],
      ['suspense:USD', 'credit', 1500],
    ]);
    const [{ n }] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM reconciliation_exception_audit WHERE exception_id = $1 AND action = 'resolved'`,
      [id],
    );
    expect(n).toBe(1);
  });

  it('resolves without a correction and ignores: status, actor and reason recorded, no entry booked', async () => {
    const a = await seedException({
      status: 'amount_mismatch',
      amountAtStake: 100,
      ledgerAmount: 1900,
    });
    const b = await seedException({ status: 'duplicate', amountAtStake: 2000 });
    const entriesBefore = (await writes()).entries;

    const resolved = await gql(
      RESOLVE,
      { input: { id: a.id, resolution: 'RESOLVED', reason: 'partial capture, expected' } },
      keys.admin,
    );
    expect(resolved.data!.resolveReconciliationException).toMatchObject({
      status: 'RESOLVED',
      resolvedBy: adminClientId,
      resolutionReason: 'partial capture, expected',
      correctionSourceId: null,
    });
    const ignored = await gql(
      RESOLVE,
      {
        input: { id: b.id, resolution: 'IGNORED', reason: '  test charge, refunded out of band ' },
      },
      keys.admin,
    );
    expect(ignored.data!.resolveReconciliationException).toMatchObject({
      status: 'IGNORED',
      resolutionReason: 'test charge, refunded out of band',
      correctionSourceId: null,
    });
    expect((ignored.data!.resolveReconciliationException as Node).audit.at(-1)).toMatchObject({
      action: 'ignored',
      actor: adminClientId,
      details: { correction: null },
    });
    expect((await writes()).entries).toBe(entriesBefore);
    expect(await entriesFor(`${a.id}:correction`)).toEqual([]);

    // Closed either way: nothing more can be done to them.
    for (const id of [a.id, b.id]) {
      const again = await gql(
        RESOLVE,
        { input: { id, resolution: 'IGNORED', reason: 'changed my mind' } },
        keys.admin,
      );
      expect(codes(again)).toEqual(['INVALID_STATE']);
    }
    const listed = nodesOf(
      await gql(EXCEPTIONS, { filter: { status: 'IGNORED', type: 'DUPLICATE' } }, keys.read),
    );
    expect(listed.map((n) => n.id)).toContain(b.id);
  });

  it('needs admin to resolve, NOT_FOUND for an unknown id, and refuses bad input with nothing written', async () => {
    const { id } = await seedException({ status: 'duplicate', amountAtStake: 10 });
    const input = { id, resolution: 'RESOLVED', reason: 'fine' };
    const before = await writes();

    expect(codes(await gql(RESOLVE, { input }, keys.read))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(RESOLVE, { input }))).toEqual(['UNAUTHENTICATED']);
    const unknown = await gql(RESOLVE, { input: { ...input, id: newId('rex') } }, keys.admin);
    expect(codes(unknown)).toEqual(['NOT_FOUND']);

    const refused: Array<[object, string]> = [
      [{ ...input, reason: '   ' }, 'reason'],
      [{ ...input, reason: 'x'.repeat(1001) }, 'reason'],
      [{ ...input, id: 'pay_01jexampleexampleexampleex' }, 'id'],
      [{ ...input, resolution: 'IGNORED', postCorrection: true }, 'postCorrection'],
      // A duplicate has no correcting entry: refused inside the transaction, rolled back.
      [{ ...input, postCorrection: true }, 'postCorrection'],
    ];
    for (const [bad, field] of refused) {
      const answer = await gql(RESOLVE, { input: bad }, keys.admin);
      expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors![0].extensions!.field).toBe(field);
    }
    expect(
      codes(await gql(RESOLVE, { input: { ...input, resolution: 'DELETED' } }, keys.admin)),
    ).toEqual(['BAD_USER_INPUT']);

    expect(await writes()).toEqual(before);
    const [row] = await db.dataSource.query(
      `SELECT status, resolved_by FROM reconciliation_exceptions WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ status: 'open', resolved_by: null });
  });

  // ── payouts ───────────────────────────────────────────────────────────────────────────────

  it('answers a payout against its balance transactions (the engine judges it), null when unknown', async () => {
    const PAYOUT = `query($id: ID!) { payoutReconciliation(payoutId: $id) {
      payoutId processor currency payoutAmount balanceTransactionTotal ledgerBankAmount status itemCount } }`;
    expect(await gql(PAYOUT, { id: 'po_unknown' }, keys.read)).toEqual({
      data: { payoutReconciliation: null },
    });
    expect(codes(await gql(PAYOUT, { id: 'po_unknown' }, keys.payments))).toEqual(['FORBIDDEN']);

    const payoutId = newId('pyo');
    await db.dataSource.query(
      `INSERT INTO payouts (id, processor, processor_reference, amount, currency, status)
       VALUES ($1, 'stripe', 'po_test1', 5382, 'USD', 'PAID')`,
      [payoutId],
    );
    const bt = (id: string, type: string, amount: number, fee: number) =>
      db.dataSource.query(
        `INSERT INTO processor_balance_transactions (processor, id, type, reporting_category,
           source_reference, payout_reference, amount, fee, net, currency, status, created_at,
           received_via)
         VALUES ('stripe', $1, $2, $2, $3, 'po_test1', $4::bigint, $5::bigint, $4::bigint - $5::bigint, 'USD', 'available',
           '2026-11-02T00:00:00Z', 'pull')`,
        [id, type, type === 'payout' ? 'po_test1' : `ch_${id}`, amount, fee],
      );
    await bt('txn_a', 'charge', 2000, 59);
    await bt('txn_b', 'charge', 3500, 59);
    await bt('txn_p', 'payout', -5382, 0);

    for (const id of [payoutId, 'po_test1']) {
      const answer = await gql(PAYOUT, { id }, keys.read);
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.payoutReconciliation).toMatchObject({
        payoutId,
        processor: 'stripe',
        currency: 'USD',
        payoutAmount: 5382,
        balanceTransactionTotal: 5382,
        itemCount: 2,
      });
    }
  });

  // ── metrics ───────────────────────────────────────────────────────────────────────────────

  it('samples open exceptions by type and age bucket and the amount at stake per currency into gauges', async () => {
    const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
    const seed = (hours: number, amountAtStake: number) =>
      seedException({
        status: 'currency_mismatch',
        currency: 'CHF',
        amountAtStake,
        openedAt: ago(hours),
      });
    await seed(24 * 9, 100);
    await seed(24 * 10, 200);
    const young = await seed(2, 300);
    await seed(24 * 3, 400);

    async function scrape(): Promise<string> {
      return (await http().inject({ method: 'GET', url: '/metrics' })).body;
    }
    const value = (text: string, series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const old = 'reconciliation_open_exceptions{type="currency_mismatch",age_bucket=">7d"}';
    const day = 'reconciliation_open_exceptions{type="currency_mismatch",age_bucket="1h-24h"}';
    const week = 'reconciliation_open_exceptions{type="currency_mismatch",age_bucket="1d-7d"}';
    const chf = 'reconciliation_amount_at_stake{currency="CHF"}';
    const resolvedTotal = 'reconciliation_exceptions_resolved_total{resolution="resolved"}';

    async function until(check: (text: string) => boolean): Promise<string> {
      for (let i = 0; i < 60; i++) {
        const text = await scrape();
        if (check(text)) return text;
        await new Promise((r) => setTimeout(r, 100));
      }
      return scrape();
    }

    let text = await until((t) => value(t, chf) === 1000);
    expect(value(text, old)).toBe(2);
    expect(value(text, week)).toBe(1);
    expect(value(text, day)).toBe(1);
    expect(value(text, chf)).toBe(1000);
    expect(
      value(text, 'reconciliation_open_exceptions{type="currency_mismatch",age_bucket="<1h"}'),
    ).toBe(0);
    const resolvedBefore = value(text, resolvedTotal) ?? 0;

    const answer = await gql(
      RESOLVE,
      { input: { id: young.id, resolution: 'RESOLVED', reason: 'FX booked by hand' } },
      keys.admin,
    );
    expect(answer.errors).toBeUndefined();
    text = await until((t) => value(t, chf) === 700);
    expect(value(text, chf)).toBe(700);
    expect(value(text, day)).toBe(0);
    expect(value(text, resolvedTotal)).toBe(resolvedBefore + 1);
  });
});
