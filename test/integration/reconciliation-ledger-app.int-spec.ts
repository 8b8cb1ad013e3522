import { INestMicroservice } from '@nestjs/common';
import { jetstream } from '@nats-io/jetstream';
import {
  SIMULATOR_TOKENS,
  SimulatorAdapter,
  SqlSimulatorStore,
} from '../../adapters/simulator/src';
import { startLedger } from '../../apps/ledger/src/main';
import { loadConfig } from '../../libs/config/src';
import {
  PaymentEvent,
  ProcessorAdapter,
  ProcessorBalanceTransaction,
  ProcessorError,
} from '../../libs/contracts/src';
import { newId, parseCurrency } from '../../libs/domain/src';
import {
  BalanceTransactionIngest,
  BalanceTransactionPuller,
  RealtimeReconciler,
  ReconciliationEngine,
} from '../../libs/ledger/src/reconciliation';
import { Logger, processMetrics } from '../../libs/observability/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_NATS_URL, TestNamespace, createTestNamespace } from '../support/jetstream-namespace';

/**
 * Reconciliation inside a running ledger (apps/ledger in-process, real Postgres and JetStream):
 * the real-time pass after each booked batch, balance transactions delivered on payment events
 * (received_via 'webhook'), and the scheduled pull against the simulator with a failing Stripe.
 */
describe('reconciliation in the running ledger', () => {
  let db: TestDatabase;
  let ns: TestNamespace;
  let ledger: INestMicroservice;
  let simulator: SimulatorAdapter;
  const EUR = parseCurrency('EUR')!;

  beforeAll(async () => {
    db = await createTestDatabase();
    ns = await createTestNamespace();
    const config = loadConfig({
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: ns.subjects.namespace,
      DB_POOL_SIZE: '4',
      LOG_LEVEL: 'silent',
      LEDGER_BATCH_SIZE: '50',
      LEDGER_BATCH_WAIT_MS: '20',
      // The pull runs every 300 ms: the simulator (same database) and a Stripe nobody answers.
      RECONCILIATION_PULL_INTERVAL_MS: '300',
      STRIPE_SECRET_KEY: 'sk_test_unreachable',
      STRIPE_WEBHOOK_SECRET: 'whsec_unreachable',
      STRIPE_API_BASE: 'http://127.0.0.1:9',
      STRIPE_TIMEOUT_MS: '500',
    });
    ledger = await startLedger(config);
    await db.dataSource.query(
      `INSERT INTO api_clients (id, name, key_hash, scopes) VALUES ('cli_rt', 'rt', 'h', '{}')`,
    );
    simulator = new SimulatorAdapter({ store: new SqlSimulatorStore(db.dataSource) });
  });

  afterAll(async () => {
    await ledger?.close();
    await ns?.drop();
    await db?.drop();
  });

  const publish = (event: PaymentEvent) =>
    jetstream(ns.nc).publish(ns.subjects.event(event.type), JSON.stringify(event));

  interface Gateway {
    readonly paymentId: string;
    readonly processor: string;
    readonly reference: string;
    readonly amount: number;
    readonly currency: string;
  }

  async function gatewayPayment(g: Gateway, chargeReference?: string): Promise<void> {
    await db.dataSource.query(
      `INSERT INTO payments (id, client_id, status, amount, currency, amount_authorized,
         amount_captured, capture_method, priority, payment_method, processor, processor_reference)
       VALUES ($1, 'cli_rt', 'SUCCEEDED', $2, $3, $2, $2, 'AUTOMATIC', 'CHECKOUT', 'card', $4, $5)`,
      [g.paymentId, g.amount, g.currency, g.processor, g.reference],
    );
    if (chargeReference) {
      await db.dataSource.query(
        `INSERT INTO payment_fees (payment_id, processor, charge_reference) VALUES ($1, $2, $3)`,
        [g.paymentId, g.processor, chargeReference],
      );
    }
  }

  function paymentEvent(
    type: PaymentEvent['type'],
    g: Gateway,
    extra: Partial<PaymentEvent> = {},
  ): PaymentEvent {
    return {
      v: 1,
      eventId: newId('evt'),
      type,
      occurredAt: new Date().toISOString(),
      payment: {
        id: g.paymentId,
        clientId: 'cli_rt',
        status: 'SUCCEEDED',
        amount: g.amount,
        currency: g.currency,
        amountCaptured: g.amount,
        amountRefunded: 0,
        processor: g.processor,
        processorReference: g.reference,
      },
      ...extra,
    };
  }

  const itemOf = async (key: string) => {
    const [row] = await db.dataSource.query(
      `SELECT status, processor_amount, processor_fee, ledger_amount, ledger_fee, gateway_amount,
              balance_transaction_count
         FROM reconciliation_items WHERE item_key = $1`,
      [key],
    );
    return row as Record<string, string | number> | undefined;
  };

  it('re-reconciles a charge as soon as the ledger books its payment events', async () => {
    const g: Gateway = {
      paymentId: newId('pay'),
      processor: 'simulator',
      reference: `simpay_${newId('att').slice(4)}`,
      amount: 4_200,
      currency: 'USD',
    };
    await gatewayPayment(g);
    // The processor side first (a pull): the books do not have it yet, so within the grace
    // period nothing is written.
    const ingest = ledger.get(BalanceTransactionIngest);
    await ingest.ingest('simulator', [bt(g.reference, 4_200, 0, 'USD')], 'pull');
    expect(await itemOf(`charge:${g.paymentId}`)).toBeUndefined();

    await publish(paymentEvent('succeeded', g, { amount: 4_200 }));
    await waitFor(async () => (await itemOf(`charge:${g.paymentId}`))?.status === 'matched');
    expect(await itemOf(`charge:${g.paymentId}`)).toMatchObject({
      processor_amount: 4200,
      ledger_amount: 4200,
      gateway_amount: 4200,
      balance_transaction_count: 1,
    });
    await ledger.get(RealtimeReconciler).settled();
  });

  it('stores the balance transaction a fee_recorded event carries (webhook) and matches the charge', async () => {
    const charge = `ch_${newId('att').slice(4)}`;
    const g: Gateway = {
      paymentId: newId('pay'),
      processor: 'stripe',
      reference: `pi_${newId('att').slice(4)}`,
      amount: 10_000,
      currency: 'USD',
    };
    await gatewayPayment(g, charge);
    const txn = `txn_${newId('att').slice(4)}`;
    const created = new Date(Math.floor(Date.now() / 1000) * 1000);
    await publish(paymentEvent('succeeded', g, { amount: 10_000 }));
    await publish(
      paymentEvent('fee_recorded', g, {
        fee: 320,
        net: 9_680,
        feeCurrency: 'USD',
        balanceTransaction: {
          id: txn,
          type: 'charge',
          reportingCategory: 'charge',
          amount: 10_000,
          fee: 320,
          net: 9_680,
          currency: 'USD',
          status: 'pending',
          createdAt: created.toISOString(),
          availableOn: new Date(created.getTime() + 2 * 86_400_000).toISOString(),
          sourceReference: charge,
        },
      }),
    );
    const stored = async () =>
      (
        await db.dataSource.query(
          `SELECT received_via, source_reference, amount, fee, net, currency, created_at
             FROM processor_balance_transactions WHERE processor = 'stripe' AND id = $1`,
          [txn],
        )
      )[0] as Record<string, unknown> | undefined;
    await waitFor(async () => (await stored()) !== undefined);
    expect(await stored()).toMatchObject({
      received_via: 'webhook',
      source_reference: charge,
      amount: 10_000,
      fee: 320,
      net: 9_680,
      currency: 'USD',
      created_at: created,
    });
    await waitFor(async () => (await itemOf(`charge:${g.paymentId}`))?.status === 'matched');
    expect(await itemOf(`charge:${g.paymentId}`)).toMatchObject({
      processor_fee: 320,
      ledger_fee: 320,
    });
  });

  it('still books a fee_recorded event whose balance transaction the ingest refuses', async () => {
    const g: Gateway = {
      paymentId: newId('pay'),
      processor: 'stripe',
      reference: `pi_${newId('att').slice(4)}`,
      amount: 5_000,
      currency: 'USD',
    };
    await gatewayPayment(g);
    const txn = `txn_${newId('att').slice(4)}`;
    // Valid by the contract, but the processor-side id is blank after trimming: the ingest
    // refuses it; the fee is still booked and nothing else breaks.
    await publish(
      paymentEvent('fee_recorded', g, {
        fee: 175,
        net: 4_825,
        feeCurrency: 'USD',
        balanceTransaction: {
          id: '   ',
          type: 'charge',
          reportingCategory: 'charge',
          amount: 5_000,
          fee: 175,
          net: 4_825,
          currency: 'USD',
          status: 'pending',
          createdAt: new Date().toISOString(),
          availableOn: null,
          sourceReference: txn,
        },
      }),
    );
    const fees = async () =>
      Number(
        (
          await db.dataSource.query(
            `SELECT count(*)::int AS n FROM journal_entries WHERE payment_id = $1`,
            [g.paymentId],
          )
        )[0].n,
      );
    await waitFor(async () => (await fees()) === 1);
    await ledger.get(RealtimeReconciler).settled();
    const [{ n }] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM processor_balance_transactions WHERE source_reference = $1`,
      [txn],
    );
    expect(n).toBe(0);
  });

  describe('scheduled pull', () => {
    it('lands simulator charges and refunds, reconciles them, and counts the failing Stripe', async () => {
      const charged = await simulator.authorize({
        idempotencyKey: newId('att'),
        paymentId: newId('pay'),
        amount: 3_000,
        currency: EUR,
        paymentMethodToken: SIMULATOR_TOKENS.ok,
        captureMethod: 'AUTOMATIC',
      });
      const g: Gateway = {
        paymentId: newId('pay'),
        processor: 'simulator',
        reference: charged.processorReference,
        amount: 3_000,
        currency: 'EUR',
      };
      await gatewayPayment(g);
      const refundId = newId('ref');
      const refund = await simulator.refund({
        idempotencyKey: newId('att'),
        processorReference: charged.processorReference,
        refundId,
        amount: 1_000,
      });
      await publish(paymentEvent('succeeded', g, { amount: 3_000 }));

      const pulled = async () =>
        (await db.dataSource.query(
          `SELECT id, type, amount, fee, received_via FROM processor_balance_transactions
            WHERE processor = 'simulator' AND source_reference = ANY($1) ORDER BY amount DESC`,
          [[charged.processorReference, refund.processorReference]],
        )) as Record<string, unknown>[];
      await waitFor(async () => (await pulled()).length === 2);
      expect(await pulled()).toMatchObject([
        { type: 'charge', amount: 3000, fee: 0, received_via: 'pull' },
        { type: 'refund', amount: -1000, fee: 0, received_via: 'pull' },
      ]);
      await waitFor(async () => (await itemOf(`charge:${g.paymentId}`))?.status === 'matched');

      // Stripe is configured but unreachable: its pulls fail, are counted, and the ledger lives on.
      const failures = async () => {
        const text = await processMetrics().registry.metrics();
        const m = /reconciliation_pull_failures_total\{processor="stripe"\} (\d+)/.exec(text);
        return Number(m?.[1] ?? 0);
      };
      await waitFor(async () => (await failures()) >= 1);
      const reports = await ledger.get(BalanceTransactionPuller).pullOnce();
      expect(reports.map((r) => [r.processor, r.ok])).toEqual([
        ['stripe', false],
        ['simulator', true],
      ]);
      const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM payments`);
      expect(n).toBeGreaterThan(0);
    });
  });
});

describe('BalanceTransactionPuller with a failing adapter', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('logs and counts the failure, keeps pulling the others, and retries from the same point', async () => {
    const ingest = new BalanceTransactionIngest(
      db.dataSource,
      new ReconciliationEngine(db.dataSource, { graceMs: 600_000 }),
    );
    let broken = true;
    const failing: ProcessorAdapter = {
      ...stubAdapter('flaky'),
      // eslint-disable-next-line require-yield
      async *listBalanceTransactions() {
        if (broken) throw new ProcessorError('unavailable', 'report down');
      },
    };
    const healthy: ProcessorAdapter = {
      ...stubAdapter('steady'),
      async *listBalanceTransactions(query) {
        yield bt('src_steady', 700, 20, 'USD', new Date(query.createdTo.getTime() - 1000));
      },
    };
    const errors: unknown[][] = [];
    const logger = recordingLogger(errors);
    let now = new Date('2026-11-22T10:00:00Z');
    const before = await failuresOf('flaky');
    const puller = new BalanceTransactionPuller(
      [failing, healthy],
      ingest,
      { intervalMs: 0, overlapMs: 60_000, lookbackMs: 3_600_000, now: () => now },
      logger,
      processMetrics(),
    );

    const first = await puller.pullOnce();
    expect(first.map((r) => [r.processor, r.ok])).toEqual([
      ['flaky', false],
      ['steady', true],
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0][1]).toMatch(/pull failed/);
    expect(await failuresOf('flaky')).toBe(before + 1);
    const [{ n }] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM processor_balance_transactions WHERE processor = 'steady'`,
    );
    expect(n).toBe(1);

    // Next time the failed adapter starts again from its lookback; the healthy one from its
    // last success minus the overlap.
    now = new Date('2026-11-22T10:05:00Z');
    broken = false;
    const second = await puller.pullOnce();
    expect(second.find((r) => r.processor === 'flaky')).toMatchObject({
      ok: true,
      from: new Date('2026-11-22T09:05:00Z'),
    });
    expect(second.find((r) => r.processor === 'steady')).toMatchObject({
      ok: true,
      from: new Date('2026-11-22T09:59:00Z'),
    });
  });
});

async function failuresOf(processor: string): Promise<number> {
  const text = await processMetrics().registry.metrics();
  const m = new RegExp(`reconciliation_pull_failures_total\\{processor="${processor}"\\} (\\d+)`);
  return Number(m.exec(text)?.[1] ?? 0);
}

function stubAdapter(name: string): ProcessorAdapter {
  const refuse = () => Promise.reject(new Error('not used'));
  return {
    name,
    ownsToken: () => false,
    authorize: refuse,
    capture: refuse,
    cancel: refuse,
    refund: refuse,
    retrieve: refuse,
    parseWebhook: () => {
      throw new Error('not used');
    },
  };
}

function recordingLogger(errors: unknown[][]): Logger {
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    debug: () => undefined,
    error: (...args: unknown[]) => errors.push(args),
    child: () => logger,
  };
  return logger as unknown as Logger;
}

function bt(
  source: string,
  amount: number,
  fee: number,
  currency: string,
  createdAt = new Date(),
): ProcessorBalanceTransaction {
  return {
    id: `txn_${newId('att').slice(4)}`,
    sourceReference: source,
    type: 'charge',
    reportingCategory: 'charge',
    currency,
    amount,
    fee,
    net: amount - fee,
    status: 'available',
    createdAt,
    availableOn: createdAt,
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
