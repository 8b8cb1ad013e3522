// Ledger ingest benchmark (BENCH_ONLY=ledger, and part of all):
//  (a) throughput: BENCH_LEDGER_EVENTS (200,000) payment events published (pipelined) to a fresh
//      namespace's PAYMENT_EVENTS, most on ONE receivable (simulator, USD); then apps/ledger is
//      started as a child process and entries/s are measured from its start until all are
//      posted. Baseline, same run: the same rows (entries, lines, balances) written by plain
//      batched SQL (multi-row INSERT of entries and of lines, one balance UPDATE per account per
//      batch of BENCH_LEDGER_BASELINE_BATCH = 500) into a separate database of the same schema
//      (same constraint triggers).
//  (b) lag: a fresh ledger at BENCH_LEDGER_RATE (2,000) events/s for BENCH_LEDGER_LAG_S (15) s;
//      lag = event published (just before js.publish) → the ledger's ack of it, which it sends
//      only after the batch committed (seen on `$JS.ACK.<stream>.ledger.…`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { PaymentEvent, Subjects } from '../libs/contracts/src';
import { newId } from '../libs/domain/src';
import { accountFor } from '../libs/ledger/src/chart-of-accounts';
import { connectNats, ensureStreams } from '../libs/messaging/src';
import { BenchContext } from './phase';
import {
  ROOT,
  BenchDatabase,
  ChildApp,
  createDatabase,
  createNamespace,
  productEnv,
  sleep,
} from './stack';

export const LEDGER_TARGETS = { entriesPerS: 20_000, ratio: 0.4, lagP99Ms: 500 } as const;

export interface LedgerResults {
  readonly events: number;
  readonly batchSize: number;
  readonly publishS: number;
  readonly ingest: {
    entries: number;
    /** From the process spawn (start-up included) to the last entry. */
    seconds: number;
    entriesPerS: number;
    /** From "started" (consumer attached) to the last entry: the service's ingest rate. */
    readySeconds: number;
    bookedBeforeReady: number;
    readyEntriesPerS: number;
    balanced: boolean;
  };
  readonly baseline: { entries: number; seconds: number; entriesPerS: number; batch: number };
  readonly ratio: number;
  readonly lag: {
    offeredPerS: number;
    seconds: number;
    published: number;
    committed: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
  };
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** 90% sales on receivable:simulator:USD, 5% its fees, 5% sales on receivable:stripe:EUR. */
function makeEvent(i: number): PaymentEvent {
  const stripe = i % 20 === 19;
  const fee = i % 20 === 9;
  const amount = 1000 + (i % 997);
  return {
    v: 1,
    eventId: newId('evt'),
    type: fee ? 'fee_recorded' : 'succeeded',
    occurredAt: new Date().toISOString(),
    payment: {
      id: newId('pay'),
      clientId: 'bench',
      status: 'SUCCEEDED',
      amount,
      currency: stripe ? 'EUR' : 'USD',
      amountCaptured: amount,
      amountRefunded: 0,
      processor: stripe ? 'stripe' : 'simulator',
      processorReference: null,
    },
    ...(fee ? { fee: 30 + (i % 7) } : { amount }),
  };
}

/** Publishes with up to `window` publishes awaiting their PubAck. */
async function publishAll(
  nc: NatsConnection,
  subjects: Subjects,
  events: readonly PaymentEvent[],
  window = 2000,
): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < events.length; i += window) {
    await Promise.all(
      events
        .slice(i, i + window)
        .map((e) => js.publish(subjects.event(e.type), JSON.stringify(e), { msgID: e.eventId })),
    );
  }
}

async function startLedger(
  ctx: BenchContext,
  db: BenchDatabase,
  namespace: string,
  batchSize: number,
): Promise<ChildApp> {
  return ChildApp.start(ctx.cleanup, {
    name: `ledger-${namespace}`,
    script: 'apps/ledger/src/main.ts',
    env: {
      ...productEnv(db, namespace, ctx.config.natsUrl, 10),
      SERVICES: 'ledger',
      PORT: '0',
      LEDGER_BATCH_SIZE: String(batchSize),
    },
    readyText: '"msg":"started"',
  });
}

/**
 * Waits until the ledger's durable consumer has acked every published event. The ledger acks
 * only after the batch committed, so this is "all booked", read from NATS every 100 ms instead
 * of counting a growing table (a count every 100 ms took ~9 % of a core from Postgres).
 */
async function untilAllAcked(nc: NatsConnection, subjects: Subjects, total: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + 600_000;
  for (;;) {
    // 'ledger' is apps/ledger's durable name (LEDGER_DURABLE).
    const info = await jsm.consumers.info(subjects.streams.events.name, 'ledger');
    if (info.ack_floor.stream_seq >= total && info.num_ack_pending === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`ledger acked only ${info.ack_floor.stream_seq}/${total} events`);
    }
    await sleep(100);
  }
}

const countEntries = async (db: BenchDatabase): Promise<number> =>
  Number((await db.dataSource.query(`SELECT count(*) AS n FROM journal_entries`))[0].n);

async function ingest(
  ctx: BenchContext,
  nc: NatsConnection,
  events: readonly PaymentEvent[],
  batchSize: number,
): Promise<{ publishS: number; ingest: LedgerResults['ingest'] }> {
  const db = await createDatabase(ctx.cleanup, ctx.config.adminDatabaseUrl, 'bench_ledger_');
  const namespace = createNamespace(ctx.cleanup, ctx.config.natsUrl, 'bl');
  const subjects = new Subjects(namespace);
  await ensureStreams(nc, subjects);
  const t0 = performance.now();
  await publishAll(nc, subjects, events);
  const publishS = (performance.now() - t0) / 1000;
  ctx.log(`ledger: ${events.length} events published in ${publishS.toFixed(1)} s; starting ledger`);

  const started = performance.now();
  const ledger = await startLedger(ctx, db, namespace, batchSize);
  const ready = performance.now();
  const bookedBeforeReady = await countEntries(db);
  await untilAllAcked(nc, subjects, events.length);
  const finished = performance.now();
  const entries = await countEntries(db);
  if (entries < events.length) throw new Error(`ledger booked only ${entries}/${events.length}`);
  const seconds = (finished - started) / 1000;
  const readySeconds = (finished - ready) / 1000;
  await ledger.stop();
  const [tb] = await db.dataSource.query(
    `SELECT bool_and(d = c) AS balanced FROM (
       SELECT currency, sum(amount) FILTER (WHERE direction = 'debit') AS d,
              sum(amount) FILTER (WHERE direction = 'credit') AS c
         FROM journal_lines GROUP BY currency) t`,
  );
  return {
    publishS,
    ingest: {
      entries,
      seconds,
      entriesPerS: entries / seconds,
      readySeconds,
      bookedBeforeReady,
      readyEntriesPerS: (entries - bookedBeforeReady) / readySeconds,
      balanced: tb.balanced === true,
    },
  };
}

/** The same rows by plain batched SQL: what the ledger's database work costs without it. */
async function baseline(
  ctx: BenchContext,
  events: readonly PaymentEvent[],
  batch: number,
): Promise<LedgerResults['baseline']> {
  const db = await createDatabase(ctx.cleanup, ctx.config.adminDatabaseUrl, 'bench_ledger_base_');
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const specs = new Map<string, ReturnType<typeof accountFor>>();
    const linesOf = (e: PaymentEvent) => {
      const p = e.payment.processor!;
      const c = e.payment.currency;
      return e.type === 'fee_recorded'
        ? {
            debit: accountFor('processingFees', c, p),
            credit: accountFor('processorReceivable', c, p),
            amount: e.fee!,
          }
        : {
            debit: accountFor('processorReceivable', c, p),
            credit: accountFor('customerClearing', c),
            amount: e.amount!,
          };
    };
    for (const e of events) {
      const l = linesOf(e);
      specs.set(l.debit.code, l.debit);
      specs.set(l.credit.code, l.credit);
    }
    const ids = new Map<string, number>();
    for (const a of specs.values()) {
      const { rows } = await client.query(
        `INSERT INTO ledger_accounts (code, name, type, normal_side, currency, processor)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [a.code, a.name, a.type, a.normalSide, a.currency, a.processor],
      );
      ids.set(a.code, Number(rows[0].id));
      await client.query(`INSERT INTO account_balances (account_id) VALUES ($1)`, [rows[0].id]);
    }
    const started = performance.now();
    for (let i = 0; i < events.length; i += batch) {
      const chunk = events.slice(i, i + batch);
      const entryParams: unknown[] = [];
      const entryRows: string[] = [];
      const lineParams: unknown[] = [];
      const lineRows: string[] = [];
      const deltas = new Map<number, { d: number; c: number }>();
      for (const e of chunk) {
        const id = newId('je');
        const n = entryParams.length;
        entryRows.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, 'posted', $${n + 5})`);
        entryParams.push(
          id,
          e.eventId,
          e.type === 'fee_recorded' ? 'processor_fee' : 'sale',
          e.payment.id,
          e.occurredAt,
        );
        const l = linesOf(e);
        for (const [no, account, direction] of [
          [1, l.debit, 'debit'],
          [2, l.credit, 'credit'],
        ] as const) {
          const m = lineParams.length;
          lineRows.push(
            `($${m + 1}, ${no}, $${m + 2}, '${direction}', $${m + 3}, $${m + 4}, false, $${m + 5})`,
          );
          const accountId = ids.get(account.code)!;
          lineParams.push(id, accountId, l.amount, account.currency, e.occurredAt);
          const d = deltas.get(accountId) ?? { d: 0, c: 0 };
          if (direction === 'debit') d.d += l.amount;
          else d.c += l.amount;
          deltas.set(accountId, d);
        }
      }
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO journal_entries (id, source_event_id, kind, payment_id, status, occurred_at)
         VALUES ${entryRows.join(', ')}`,
        entryParams,
      );
      await client.query(
        `INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
         VALUES ${lineRows.join(', ')}`,
        lineParams,
      );
      for (const [accountId, d] of [...deltas].sort((a, b) => a[0] - b[0])) {
        await client.query(
          `UPDATE account_balances SET posted_debits = posted_debits + $2,
             posted_credits = posted_credits + $3, version = version + 1, updated_at = now()
           WHERE account_id = $1`,
          [accountId, d.d, d.c],
        );
      }
      await client.query('COMMIT');
    }
    const seconds = (performance.now() - started) / 1000;
    const entries = await countEntries(db);
    return { entries, seconds, entriesPerS: entries / seconds, batch };
  } finally {
    await client.end();
  }
}

/** Open loop at `rate` events/s; lag = publish call → the ledger's ack (sent after commit). */
async function lag(
  ctx: BenchContext,
  nc: NatsConnection,
  rate: number,
  durationS: number,
  batchSize: number,
): Promise<LedgerResults['lag']> {
  const db = await createDatabase(ctx.cleanup, ctx.config.adminDatabaseUrl, 'bench_ledger_lag_');
  const namespace = createNamespace(ctx.cleanup, ctx.config.natsUrl, 'bll');
  const subjects = new Subjects(namespace);
  await ensureStreams(nc, subjects);
  const stream = subjects.streams.events.name;
  const ledger = await startLedger(ctx, db, namespace, batchSize);

  const publishedAt = new Map<number, number>(); // stream seq → publish time
  const ackedAt = new Map<number, number>();
  // `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.…` (or with domain and account hash first).
  const sub = nc.subscribe('$JS.ACK.>', {
    callback: (_err, msg) => {
      const tokens = msg.subject.split('.');
      const at = tokens.indexOf(stream);
      if (at < 0 || tokens[at + 1] !== 'ledger') return;
      const seq = Number(tokens[at + 3]);
      if (!ackedAt.has(seq)) ackedAt.set(seq, performance.now());
    },
  });
  await nc.flush();

  const js = jetstream(nc);
  const pending: Promise<void>[] = [];
  const tickMs = 10;
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < durationS * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (sent < due) {
      const e = makeEvent(sent++);
      const t = performance.now();
      pending.push(
        js.publish(subjects.event(e.type), JSON.stringify(e), { msgID: e.eventId }).then((ack) => {
          publishedAt.set(ack.seq, t);
        }),
      );
    }
    await sleep(Math.max(1, tickMs - ((performance.now() - start) % tickMs)));
  }
  await Promise.all(pending);
  const deadline = Date.now() + 30_000;
  while ([...publishedAt.keys()].some((s) => !ackedAt.has(s)) && Date.now() < deadline) {
    await sleep(100);
  }
  sub.unsubscribe();
  await ledger.stop();
  const lags = [...publishedAt]
    .filter(([seq]) => ackedAt.has(seq))
    .map(([seq, t]) => ackedAt.get(seq)! - t)
    .sort((a, b) => a - b);
  const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN;
  return {
    offeredPerS: rate,
    seconds: durationS,
    published: publishedAt.size,
    committed: lags.length,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    maxMs: lags[lags.length - 1] ?? NaN,
  };
}

export async function runLedgerBenchmark(ctx: BenchContext): Promise<LedgerResults> {
  const n = positiveInt('BENCH_LEDGER_EVENTS', 200_000);
  const batchSize = positiveInt('BENCH_LEDGER_BATCH_SIZE', 2000);
  const baselineBatch = positiveInt('BENCH_LEDGER_BASELINE_BATCH', 500);
  const rate = positiveInt('BENCH_LEDGER_RATE', 2000);
  const lagS = positiveInt('BENCH_LEDGER_LAG_S', 15);
  const nc = await connectNats(ctx.config.natsUrl, 'bench-ledger');
  ctx.cleanup.add('close bench-ledger NATS connection', () => nc.close());
  const events = Array.from({ length: n }, (_, i) => makeEvent(i));
  ctx.log(`ledger: ${n} events, ledger batch ${batchSize}, baseline batch ${baselineBatch}`);
  const product = await ingest(ctx, nc, events, batchSize);
  ctx.log(`ledger: ${product.ingest.readyEntriesPerS.toFixed(0)} entries/s; baseline next`);
  const base = await baseline(ctx, events, baselineBatch);
  ctx.log(`ledger baseline: ${base.entriesPerS.toFixed(0)} entries/s; lag at ${rate}/s next`);
  const lagResult = await lag(ctx, nc, rate, lagS, batchSize);
  return {
    events: n,
    batchSize,
    publishS: product.publishS,
    ingest: product.ingest,
    baseline: base,
    ratio: product.ingest.readyEntriesPerS / base.entriesPerS,
    lag: lagResult,
  };
}

export function ledgerChecksPass(r: LedgerResults): boolean {
  return (
    r.ingest.readyEntriesPerS >= LEDGER_TARGETS.entriesPerS &&
    r.ratio >= LEDGER_TARGETS.ratio &&
    r.ingest.balanced &&
    r.lag.committed === r.lag.published &&
    r.lag.p99Ms <= LEDGER_TARGETS.lagP99Ms
  );
}

export function formatLedgerResults(r: LedgerResults): string {
  const ok = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
  const f = (v: number) => Math.round(v).toLocaleString('en-US');
  return [
    '',
    `Ledger ingest (${f(r.events)} payment events, ledger batch ${r.batchSize}; published in ${r.publishS.toFixed(1)} s)`,
    `  ledger app:      ${f(r.ingest.readyEntriesPerS)} entries/s (${f(r.ingest.entries - r.ingest.bookedBeforeReady)} in ${r.ingest.readySeconds.toFixed(1)} s from "started"; trial balance ${r.ingest.balanced ? 'balanced' : 'NOT balanced'})  ${ok(r.ingest.readyEntriesPerS >= LEDGER_TARGETS.entriesPerS)} (≥ ${f(LEDGER_TARGETS.entriesPerS)})`,
    `                   ${f(r.ingest.entriesPerS)} entries/s counting the process start-up (${f(r.ingest.entries)} in ${r.ingest.seconds.toFixed(1)} s from spawn)`,
    `  plain SQL:       ${f(r.baseline.entriesPerS)} entries/s (batches of ${r.baseline.batch}, ${r.baseline.seconds.toFixed(1)} s)`,
    `  ratio:           ${r.ratio.toFixed(2)}  ${ok(r.ratio >= LEDGER_TARGETS.ratio)} (≥ ${LEDGER_TARGETS.ratio})`,
    `  lag at ${f(r.lag.offeredPerS)}/s for ${r.lag.seconds} s: p50 ${r.lag.p50Ms.toFixed(0)} ms, p99 ${r.lag.p99Ms.toFixed(0)} ms, max ${r.lag.maxMs.toFixed(0)} ms (${f(r.lag.committed)}/${f(r.lag.published)} committed)  ${ok(r.lag.p99Ms <= LEDGER_TARGETS.lagP99Ms && r.lag.committed === r.lag.published)} (p99 ≤ ${LEDGER_TARGETS.lagP99Ms} ms)`,
  ].join('\n');
}

export function writeLedgerResults(r: LedgerResults): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString()}-ledger.json`);
  writeFileSync(file, `${JSON.stringify({ ...r, pass: ledgerChecksPass(r) }, null, 2)}\n`);
  return file;
}
