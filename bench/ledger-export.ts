// Export benchmark (`BENCH_ONLY=export npm run bench`): the NetSuite journal export of 100,000
// and of 1,000,000 journal lines, lines/s and peak live-heap growth side by side (flat memory:
// the 1M peak is not ~10× the 100k peak), against a plain `COPY (SELECT … same join …) TO STDOUT`
// streamed to a file by psql in the same run. See docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataSource } from 'typeorm';
import { DEFAULT_EXPORT_MAPPING, LedgerExportService } from '../libs/ledger/src/exports';
import { BenchContext } from './phase';
import { createDatabase } from './stack';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Two periods of the same books: September holds the small export, October the large one. */
const SIZES = [
  { lines: 100_000, from: '2026-09-01T00:00:00.000Z', to: '2026-10-01T00:00:00.000Z' },
  { lines: 1_000_000, from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' },
] as const;

export interface ExportSizeResult {
  readonly lines: number;
  readonly exportS: number;
  readonly exportLinesPerS: number;
  readonly peakHeapMb: number;
  readonly fileMb: number;
  readonly copyS: number;
  readonly copyLinesPerS: number;
}

export interface ExportResults {
  readonly seedS: number;
  readonly sizes: readonly ExportSizeResult[];
}

async function seed(ds: DataSource, entries: number, offset: number, start: string) {
  await ds.transaction(async (tx) => {
    // Seeding only: the balance triggers are skipped (every entry is balanced by construction).
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await tx.query(
      `INSERT INTO journal_entries (id, source_event_id, kind, payment_id, status, occurred_at)
       SELECT 'je_' || lpad(g::text, 26, '0'), 'evt_' || g, 'sale', 'pay_' || g, 'posted',
              $3::timestamptz + ((g - $2) % 2592000) * interval '1 second'
         FROM generate_series($2 + 1, $2 + $1) g`,
      [entries, offset, start],
    );
    await tx.query(
      `INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
       SELECT e.id, s.n, a.id, CASE s.n WHEN 1 THEN 'debit' ELSE 'credit' END,
              1 + (right(e.id, 8)::bigint * 7919) % 10000000, 'USD', false, e.occurred_at
         FROM journal_entries e
         CROSS JOIN (VALUES (1), (2)) s(n)
         JOIN ledger_accounts a ON a.code = CASE s.n WHEN 1 THEN 'receivable:simulator:USD' ELSE 'clearing:USD' END
        WHERE e.id > 'je_' || lpad($1::text, 26, '0') AND e.id <= 'je_' || lpad(($1::int + $2::int)::text, 26, '0')`,
      [offset, entries],
    );
  });
}

/** The baseline: the export's own join, straight out of Postgres into a file. */
function copyToFile(url: string, from: string, to: string, path: string): Promise<void> {
  const sql =
    `COPY (SELECT l.entry_id, l.line_no, e.kind, e.payment_id, e.source_event_id, e.occurred_at,` +
    ` a.code, a.name, a.processor, l.direction, l.amount, l.currency` +
    ` FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id` +
    ` JOIN ledger_accounts a ON a.id = l.account_id` +
    ` WHERE NOT l.pending AND l.occurred_at >= '${from}' AND l.occurred_at < '${to}' AND l.currency = 'USD'` +
    ` ORDER BY l.entry_id, l.line_no) TO STDOUT WITH (FORMAT csv, HEADER)`;
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path);
    const child = spawn('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.pipe(out);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? out.end(() => resolve()) : reject(new Error(`psql COPY exited ${code}`)),
    );
  });
}

export async function runExportBenchmark(ctx: BenchContext): Promise<ExportResults> {
  const db = await createDatabase(ctx.cleanup, ctx.config.adminDatabaseUrl, 'pgw_bench_export_');
  const dir = await mkdtemp(join(tmpdir(), 'bench-export-'));
  ctx.cleanup.add('remove export bench files', () => rm(dir, { recursive: true, force: true }));
  await db.dataSource.query(
    `INSERT INTO ledger_accounts (code, name, type, normal_side, currency, processor) VALUES
       ('receivable:simulator:USD', 'Processor receivable (simulator, USD)', 'asset', 'debit', 'USD', 'simulator'),
       ('clearing:USD', 'Customer payments clearing (USD)', 'liability', 'credit', 'USD', NULL)`,
  );
  const seedStarted = Date.now();
  let offset = 0;
  for (const size of SIZES) {
    await seed(db.dataSource, size.lines / 2, offset, size.from);
    offset += size.lines / 2;
  }
  await db.dataSource.query(`VACUUM ANALYZE journal_entries`);
  await db.dataSource.query(`VACUUM ANALYZE journal_lines`);
  const seedS = (Date.now() - seedStarted) / 1000;
  ctx.log(`export bench: seeded ${offset * 2} lines in ${seedS.toFixed(0)} s`);

  const service = new LedgerExportService(db.dataSource, { dir, mapping: DEFAULT_EXPORT_MAPPING });
  const sizes: ExportSizeResult[] = [];
  for (const size of SIZES) {
    const created = await service.create({
      format: 'netsuite',
      from: size.from,
      to: size.to,
      currency: 'USD',
    });
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
    }, 250);
    const started = process.hrtime.bigint();
    let done;
    try {
      done = await service.run(created.id);
    } finally {
      clearInterval(sampler);
    }
    const exportS = Number(process.hrtime.bigint() - started) / 1e9;
    if (done.status !== 'completed' || done.lineCount !== size.lines) {
      throw new Error(`export of ${size.lines} lines ended ${done.status} (${done.lineCount})`);
    }
    const fileMb = (await stat(done.path!)).size / 1024 / 1024;

    const copyStarted = process.hrtime.bigint();
    await copyToFile(db.url, size.from, size.to, join(dir, `copy-${size.lines}.csv`));
    const copyS = Number(process.hrtime.bigint() - copyStarted) / 1e9;
    const result: ExportSizeResult = {
      lines: size.lines,
      exportS,
      exportLinesPerS: size.lines / exportS,
      peakHeapMb: peak / 1024 / 1024,
      fileMb,
      copyS,
      copyLinesPerS: size.lines / copyS,
    };
    ctx.log(
      `export bench: ${size.lines} lines in ${exportS.toFixed(1)} s, peak heap ` +
        `+${result.peakHeapMb.toFixed(1)} MB; COPY ${copyS.toFixed(1)} s`,
    );
    sizes.push(result);
  }
  return { seedS, sizes };
}

export function formatExportResults(r: ExportResults): string {
  const rows = r.sizes.map(
    (s) =>
      `| ${s.lines.toLocaleString('en-US')} | ${s.exportS.toFixed(1)} s | ` +
      `${Math.round(s.exportLinesPerS).toLocaleString('en-US')} | ${s.peakHeapMb.toFixed(1)} MB | ` +
      `${s.fileMb.toFixed(0)} MB | ${s.copyS.toFixed(1)} s | ` +
      `${Math.round(s.copyLinesPerS).toLocaleString('en-US')} |`,
  );
  const [small, large] = r.sizes;
  const ratio =
    small && large ? (large.peakHeapMb / Math.max(small.peakHeapMb, 0.1)).toFixed(1) : '-';
  return [
    '',
    `Export (NetSuite CSV) — seeded in ${r.seedS.toFixed(0)} s`,
    '| lines | export | lines/s | peak live heap growth | file | COPY baseline | COPY lines/s |',
    '| ----- | ------ | ------- | --------------------- | ---- | ------------- | ------------ |',
    ...rows,
    `1M peak / 100k peak heap: ${ratio}× (flat memory: far below 10×)`,
  ].join('\n');
}
