// The ledger (apps/ledger as a real child process) is SIGKILLed while a burst of events is being
// booked, then restarted: no entry is missing or doubled, the books balance, and the receivable
// equals the amount computed independently from the published events.
import { jetstream } from '@nats-io/jetstream';
import { PaymentEvent } from '../../libs/contracts/src';
import { newId } from '../../libs/domain/src';
import { LedgerQueries } from '../../libs/ledger/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TEST_NATS_URL, TestNamespace, createTestNamespace } from '../support/jetstream-namespace';
import { AppName, AppProcess, LogBuffer } from '../support/stack';

jest.setTimeout(120_000);

const EVENTS = 3000;
const CODE = 'receivable:simulator:USD';

let db: TestDatabase;
let ns: TestNamespace;
let ledger: AppProcess;
const logs = new LogBuffer();

beforeAll(async () => {
  db = await createTestDatabase();
  ns = await createTestNamespace();
  ledger = new AppProcess(
    'ledger' as AppName,
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      E2E_PARENT_PID: String(process.pid),
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: ns.subjects.namespace,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      DB_POOL_SIZE: '4',
      SERVICES: 'ledger',
      LEDGER_BATCH_SIZE: '200',
      LEDGER_BATCH_WAIT_MS: '20',
      // Messages in flight at the kill come back after this (no ack, no nak from a dead process).
      LEDGER_ACK_WAIT_MS: '2000',
    },
    logs,
  );
});

afterAll(async () => {
  await ledger?.kill('SIGTERM');
  await ns?.drop();
  await db?.drop();
});

function event(
  type: PaymentEvent['type'],
  paymentId: string,
  extra: Partial<PaymentEvent>,
): PaymentEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: new Date().toISOString(),
    payment: {
      id: paymentId,
      clientId: 'cli',
      status: 'SUCCEEDED',
      amount: 10_000,
      currency: 'USD',
      amountCaptured: 10_000,
      amountRefunded: 0,
      processor: 'simulator',
      processorReference: null,
    },
    ...extra,
  };
}

const count = async (sql: string): Promise<number> => Number((await db.dataSource.query(sql))[0].n);

async function waitFor(predicate: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.tail()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

it('SIGKILLed mid-burst and restarted: every event booked exactly once, books balanced', async () => {
  // A burst: sales, some refunds and fees, all on the same hot receivable.
  const events: PaymentEvent[] = [];
  let expectedReceivable = 0;
  for (let i = 0; events.length < EVENTS; i++) {
    const paymentId = newId('pay');
    const amount = 1000 + (i % 97);
    events.push(event('succeeded', paymentId, { amount }));
    expectedReceivable += amount;
    if (i % 3 === 0) {
      events.push(event('refunded', paymentId, { amount: 100 + (i % 7) }));
      expectedReceivable -= 100 + (i % 7);
    }
    if (i % 2 === 0) {
      events.push(event('fee_recorded', paymentId, { fee: 30 + (i % 5) }));
      expectedReceivable -= 30 + (i % 5);
    }
  }
  const js = jetstream(ns.nc);
  await Promise.all(
    events.map((e) =>
      js.publish(ns.subjects.event(e.type), JSON.stringify(e), { msgID: e.eventId }),
    ),
  );

  await ledger.start();
  // Kill it while it is booking: some batches committed, the rest not yet.
  await waitFor(
    async () => (await count(`SELECT count(*) AS n FROM journal_entries`)) >= EVENTS / 4,
    60_000,
    'the first batches',
  );
  // …and at a moment a batch transaction of the ledger is open (inserted, not committed).
  await waitFor(
    async () =>
      (await count(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND application_name <> 'jest' AND xact_start IS NOT NULL
            AND (query ILIKE '%journal_%' OR query ILIKE '%account_balances%')`,
      )) > 0,
    60_000,
    'an open batch transaction',
  );
  await ledger.kill('SIGKILL');
  const atKill = await count(`SELECT count(*) AS n FROM journal_entries`);
  expect(atKill).toBeLessThan(events.length);

  await ledger.start(); // unacked (and uncommitted) events are redelivered to the durable
  await waitFor(
    async () => (await count(`SELECT count(*) AS n FROM journal_entries`)) >= events.length,
    60_000,
    'all entries',
  );
  await new Promise((r) => setTimeout(r, 500)); // any duplicate would be booked by now

  const entries = await count(`SELECT count(*) AS n FROM journal_entries`);
  const distinct = await count(`SELECT count(DISTINCT source_event_id) AS n FROM journal_entries`);
  expect(entries).toBe(events.length);
  expect(distinct).toBe(events.length);
  const booked = new Set<string>(
    (await db.dataSource.query(`SELECT source_event_id FROM journal_entries`)).map(
      (r: { source_event_id: string }) => r.source_event_id,
    ),
  );
  expect(events.filter((e) => !booked.has(e.eventId))).toEqual([]);
  expect(await count(`SELECT count(*) AS n FROM journal_lines`)).toBe(2 * events.length);

  const queries = new LedgerQueries(db.dataSource);
  const tb = await queries.trialBalance('USD');
  expect(tb.balanced).toBe(true);
  expect((await queries.account(CODE))?.balance.posted.balance).toBe(expectedReceivable);
  // The per-batch balance rows agree with the lines they summarise.
  const drift = await db.dataSource.query(
    `SELECT a.code FROM ledger_accounts a JOIN account_balances b ON b.account_id = a.id
       LEFT JOIN LATERAL (
         SELECT coalesce(sum(amount) FILTER (WHERE direction = 'debit'), 0) AS d,
                coalesce(sum(amount) FILTER (WHERE direction = 'credit'), 0) AS c
           FROM journal_lines WHERE account_id = a.id) s ON true
      WHERE s.d <> b.posted_debits OR s.c <> b.posted_credits`,
  );
  expect(drift).toEqual([]);
});
