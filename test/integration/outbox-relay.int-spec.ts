import { Metrics } from '../../libs/observability/src';
import { OutboxRelay, writeOutbox } from '../../libs/messaging/src';
import { TestDatabase, createTestDatabase } from '../support/database';
import { TestNamespace, createTestNamespace } from '../support/jetstream-namespace';
import { quietLogger } from '../support/quiet-logger';

describe('outbox relay (real Postgres and JetStream)', () => {
  let db: TestDatabase;
  let ns: TestNamespace;
  const metrics = new Metrics(false);
  const relay = (batchSize = 50) =>
    new OutboxRelay(db.dataSource, ns.nc, { batchSize, pollMs: 20 }, quietLogger, metrics);
  const eventsStream = () => ns.subjects.streams.events.name;
  const unpublished = async () =>
    Number(
      (await db.dataSource.query(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`))[0]
        .n,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    ns = await createTestNamespace();
  });
  afterAll(async () => {
    await ns.drop();
    await db.drop();
  });

  const enqueue = (n: number) =>
    db.dataSource.transaction((tx) =>
      writeOutbox(
        tx,
        Array.from({ length: n }, (_, i) => ({
          subject: ns.subjects.event('succeeded'),
          payload: { n: i },
        })),
      ),
    );

  it('publishes committed rows once and marks them sent', async () => {
    const before = await ns.streamMessages(eventsStream());
    await enqueue(120);
    expect(await relay().drain()).toBe(120);
    expect(await ns.streamMessages(eventsStream())).toBe(before + 120);
    expect(await unpublished()).toBe(0);
  });

  it('does not publish rows of a transaction that rolled back', async () => {
    const before = await ns.streamMessages(eventsStream());
    await db.dataSource
      .transaction(async (tx) => {
        await writeOutbox(tx, [{ subject: ns.subjects.event('failed'), payload: {} }]);
        throw new Error('business failure');
      })
      .catch(() => undefined);
    expect(await relay().drain()).toBe(0);
    expect(await ns.streamMessages(eventsStream())).toBe(before);
  });

  it('a crash after publishing and before marking re-publishes the same ids, which JetStream drops', async () => {
    await enqueue(30);
    const before = await ns.streamMessages(eventsStream());
    await relay().drain();
    // Simulate the crash: the marks never committed, so the rows look unpublished again.
    await db.dataSource.query(
      `UPDATE outbox SET published_at = NULL WHERE published_at > now() - interval '1 minute'`,
    );
    const republished = await relay().drain();
    expect(republished).toBeGreaterThanOrEqual(30);
    expect(await ns.streamMessages(eventsStream())).toBe(before + 30);
  });

  it('rows committed while the relay was stopped go out exactly once when it starts', async () => {
    const before = await ns.streamMessages(eventsStream());
    await enqueue(25);
    const r = relay();
    r.start();
    await waitUntil(async () => (await unpublished()) === 0);
    await r.stop();
    expect(await ns.streamMessages(eventsStream())).toBe(before + 25);
  });

  it('several relays draining together publish each row once', async () => {
    const before = await ns.streamMessages(eventsStream());
    await enqueue(600);
    const counts = await Promise.all([relay(40).drain(), relay(40).drain(), relay(40).drain()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(600);
    expect(await ns.streamMessages(eventsStream())).toBe(before + 600);
  });

  it('reports the age of the oldest unpublished row as outbox lag', async () => {
    await enqueue(1);
    await new Promise((r) => setTimeout(r, 50));
    const lag = await relay().measureLag();
    expect(lag).toBeGreaterThan(0.04);
    await relay().drain();
    expect(await relay().measureLag()).toBe(0);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
