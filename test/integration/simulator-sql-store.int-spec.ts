import { Pool } from 'pg';
import { AuthorizeRequest, ProcessorError } from '../../libs/contracts/src';
import { newId, parseCurrency } from '../../libs/domain/src';
import {
  SIMULATOR_TOKENS,
  SimulatorAdapter,
  SimulatorStore,
  SqlSimulatorStore,
} from '../../adapters/simulator/src';
import { describeBalanceTransactionReport } from '../contract/balance-transactions.contract';
import { describeProcessorAdapterContract } from '../contract/processor-adapter.contract';
import { TestDatabase, createTestDatabase } from '../support/database';

const USD = parseCurrency('USD')!;
let db: TestDatabase;
/** Separate pools stand in for separate worker processes: separate connections, one database. */
let otherProcesses: Pool[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  otherProcesses = [1, 2, 3].map(() => {
    const pool = new Pool({ connectionString: db.url, max: 5 });
    // The database is dropped WITH (FORCE) at the end: an idle client being cut then is expected,
    // and an 'error' event without a listener would fail whichever test runs at that moment.
    pool.on('error', () => undefined);
    return pool;
  });
});

afterAll(async () => {
  await Promise.all(otherProcesses.map((pool) => pool.end()));
  await db?.drop();
});

describeProcessorAdapterContract('simulator (SQL store)', async () => {
  const store = new SqlSimulatorStore(db.dataSource);
  return {
    adapter: new SimulatorAdapter({ store }),
    tokens: {
      ok: SIMULATOR_TOKENS.ok,
      softDecline: SIMULATOR_TOKENS.declineInsufficientFunds,
      hardDecline: SIMULATOR_TOKENS.declineStolenCard,
      requiresAction: SIMULATOR_TOKENS.requiresAction,
      unavailable: SIMULATOR_TOKENS.unavailable,
      timeoutAfterCharge: SIMULATOR_TOKENS.timeout,
    },
    chargeCount: (paymentId) => store.chargeCount(paymentId),
  };
});

describeBalanceTransactionReport('simulator (SQL store)', async () => ({
  adapter: new SimulatorAdapter({ store: new SqlSimulatorStore(db.dataSource) }),
  okToken: SIMULATOR_TOKENS.ok,
  // The simulator charges no fee: its report says 0 and net = amount.
  expectedFee: () => 0,
}));

/** One adapter per simulated process, each over its own connections. */
function adaptersAcrossProcesses(options: { leaseMs?: number } = {}): SimulatorAdapter[] {
  const runners = [db.dataSource, ...otherProcesses];
  return runners.map((sql) => new SimulatorAdapter({ store: new SqlSimulatorStore(sql, options) }));
}

function authorizeRequest(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    idempotencyKey: `int-${newId('att')}`,
    paymentId: newId('pay'),
    amount: 2500,
    currency: USD,
    paymentMethodToken: SIMULATOR_TOKENS.ok,
    captureMethod: 'AUTOMATIC',
    ...overrides,
  };
}

function times<T>(n: number, make: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => make(i)));
}

describe('SqlSimulatorStore under concurrency', () => {
  const chargeCount = (paymentId: string) =>
    new SqlSimulatorStore(db.dataSource).chargeCount(paymentId);

  it('charges once for 20 concurrent authorizes with one key from several processes', async () => {
    const adapters = adaptersAcrossProcesses();
    const request = authorizeRequest();
    const results = await times(20, (i) => adapters[i % adapters.length].authorize(request));
    for (const result of results) expect(result).toEqual(results[0]);
    expect(results[0]).toMatchObject({ status: 'succeeded', amountCaptured: 2500 });
    expect(await chargeCount(request.paymentId)).toBe(1);
  });

  it('charges once for concurrent sim_timeout calls, and the charge is found by key', async () => {
    const adapters = adaptersAcrossProcesses();
    const request = authorizeRequest({ paymentMethodToken: SIMULATOR_TOKENS.timeout });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => adapters[i % adapters.length].authorize(request)),
    );
    const timedOut = outcomes.filter((o) => o.status === 'rejected');
    expect(timedOut).toHaveLength(1);
    expect(await chargeCount(request.paymentId)).toBe(1);
    const found = await adapters[0].retrieve({ idempotencyKey: request.idempotencyKey });
    expect(found?.status).toBe('succeeded');
  });

  it('lets only one of two different requests sharing a key through', async () => {
    const adapters = adaptersAcrossProcesses();
    const idempotencyKey = `int-${newId('att')}`;
    const requests = [authorizeRequest({ idempotencyKey }), authorizeRequest({ idempotencyKey })];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        adapters[i % adapters.length].authorize(requests[i % 2]),
      ),
    );
    const charges =
      (await chargeCount(requests[0].paymentId)) + (await chargeCount(requests[1].paymentId));
    expect(charges).toBe(1);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(5);
    for (const o of refused) {
      expect((o.reason as ProcessorError).processorCode).toBe('idempotency_error');
    }
  });

  it('captures once for 20 concurrent captures with one key', async () => {
    const adapters = adaptersAcrossProcesses();
    const { processorReference } = await adapters[0].authorize(
      authorizeRequest({ captureMethod: 'MANUAL' }),
    );
    const capture = { idempotencyKey: `int-${newId('att')}`, processorReference, amount: 2000 };
    const results = await times(20, (i) => adapters[i % adapters.length].capture(capture));
    for (const result of results) expect(result).toEqual(results[0]);
    expect(results[0]).toMatchObject({ status: 'succeeded', amountCaptured: 2000 });
  });

  it('never refunds more than captured under concurrent refunds with different keys', async () => {
    const adapters = adaptersAcrossProcesses();
    const { processorReference } = await adapters[0].authorize(authorizeRequest({ amount: 500 }));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        adapters[i % adapters.length].refund({
          idempotencyKey: `int-${newId('att')}`,
          processorReference,
          refundId: newId('ref'),
          amount: 100,
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    for (const o of refused) expect((o.reason as ProcessorError).kind).toBe('invalid_request');
    const [row] = await db.dataSource.query(
      'SELECT amount_refunded FROM simulator_payments WHERE reference = $1',
      [processorReference],
    );
    expect(Number(row.amount_refunded)).toBe(500);
  });

  it('stays single-charge even when every claim is immediately stealable', async () => {
    // A zero lease lets calls take each other's claims over; the owner fence must still hold.
    const adapters = adaptersAcrossProcesses({ leaseMs: 0 });
    const request = authorizeRequest();
    const results = await times(8, (i) => adapters[i % adapters.length].authorize(request));
    for (const result of results) expect(result).toEqual(results[0]);
    expect(await chargeCount(request.paymentId)).toBe(1);
  });
});

describe('SqlSimulatorStore claims', () => {
  const fingerprint = () => ({
    idempotencyKey: `int-${newId('att')}`,
    operation: 'authorize' as const,
    requestHash: 'hash-1',
  });

  async function claimOrFail(store: SimulatorStore, request: ReturnType<typeof fingerprint>) {
    const result = await store.claim(request);
    if (!result.claimed) throw new Error('expected to claim the key');
    return result.claim;
  }

  it('takes over a claim abandoned past its lease and fences out the old holder', async () => {
    const store = new SqlSimulatorStore(db.dataSource, { leaseMs: 200 });
    const request = fingerprint();
    const dead = await claimOrFail(store, request);
    expect(await store.claim(request)).toEqual({
      claimed: false,
      existing: { ...request, response: null },
    });
    expect((await store.claim({ ...request, requestHash: 'other' })).claimed).toBe(false);

    await new Promise((resolve) => setTimeout(resolve, 250));
    const live = await claimOrFail(store, request);
    const declined = {
      type: 'error' as const,
      error: { kind: 'declined' as const, message: 'no' },
    };
    expect(await store.complete(dead, declined)).toBe('lost');
    const [adapter] = adaptersAcrossProcesses();
    const { processorReference } = await adapter.authorize(authorizeRequest({ amount: 900 }));
    const state = { status: 'succeeded' as const, amountCaptured: 900, amountRefunded: 0 };
    const refund = { ...state, amountRefunded: 900 };
    const effect = {
      type: 'update' as const,
      reference: processorReference,
      expected: state,
      next: refund,
    };
    expect(await store.complete(dead, declined, effect)).toBe('lost');
    expect((await store.findPayment(processorReference))?.amountRefunded).toBe(0);
    await store.release(dead);
    expect(await store.complete(live, declined)).toBe('completed');
    expect((await store.findRequest(request.idempotencyKey))?.response).toEqual(declined);
  });

  it('reports a stale payment state without saving anything', async () => {
    const store = new SqlSimulatorStore(db.dataSource);
    const [adapter] = adaptersAcrossProcesses();
    const { processorReference } = await adapter.authorize(authorizeRequest({ amount: 700 }));
    const claim = await claimOrFail(store, fingerprint());
    const wrongState = { status: 'authorized' as const, amountCaptured: 0, amountRefunded: 0 };
    const next = { status: 'canceled' as const, amountCaptured: 0, amountRefunded: 0 };
    const effect = {
      type: 'update' as const,
      reference: processorReference,
      expected: wrongState,
      next,
    };
    const response = { type: 'error' as const, error: { kind: 'declined' as const, message: 'x' } };
    expect(await store.complete(claim, response, effect)).toBe('stale');
    expect((await store.findRequest(claim.idempotencyKey))?.response).toBeNull();
    expect((await store.findPayment(processorReference))?.status).toBe('succeeded');
  });
});
