// Results: the checks against the targets, a table for humans, and one JSON file per run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { BenchConfig, TARGETS } from './config';
import { CpuReport } from './cpu';
import { EndToEndResults } from './end-to-end';
import { IntakeResults } from './intake';
import { LoadStats } from './load';
import { formatSlowWindows } from './slow-windows';
import { PhaseReport } from './phase';
import { ROOT } from './stack';

export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly totalMemMiB: number;
  readonly node: string;
  readonly os: string;
  readonly loadAverage: readonly number[];
}

export function machineInfo(): MachineInfo {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    totalMemMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** The code measured: commit, and whether the working tree had uncommitted changes. */
export interface SourceInfo {
  readonly commit: string;
  readonly uncommittedFiles: number;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export function sourceInfo(): SourceInfo {
  const status = git(['status', '--porcelain']);
  return {
    commit: git(['rev-parse', 'HEAD']) || 'unknown',
    uncommittedFiles: status === '' ? 0 : status.split('\n').length,
  };
}

// ---------------------------------------------------------------------------------------------
// Checks

export interface Check {
  readonly name: string;
  readonly value: number | boolean;
  readonly target: string;
  readonly pass: boolean;
}

const atLeast = (name: string, value: number, min: number): Check => ({
  name,
  value,
  target: `>= ${min}`,
  pass: value >= min,
});

const atMost = (name: string, value: number, max: number): Check => ({
  name,
  value,
  target: `<= ${max}`,
  pass: value <= max,
});

const holds = (name: string, value: boolean): Check => ({
  name,
  value,
  target: 'true',
  pass: value,
});

function intakeChecks(intake: IntakeResults): Check[] {
  return [
    holds('intake: every baseline request accepted', intake.baseline.load.clean),
    holds('intake: every gateway request accepted (max)', intake.product.load.clean),
    holds('intake: every gateway request accepted (fixed rate)', intake.productAtRate.load.clean),
    atLeast('intake: gateway/baseline accepted/s ratio', intake.ratio, TARGETS.intakeRatio),
    atMost(
      'intake: p99 ms at 70 % of max',
      intake.productAtRate.load.latencyMs.p99,
      TARGETS.intakeP99AtRateMs,
    ),
  ];
}

function e2eChecks(e2e: EndToEndResults): Check[] {
  const { saturation: s, atRate: r } = e2e;
  return [
    holds('e2e: every request accepted (saturation)', s.phase.load.clean),
    holds('e2e: every payment SUCCEEDED (saturation)', s.drained && s.counts.total === s.succeeded),
    atLeast(
      'e2e: sustained completions/s (database)',
      s.completionsPerSDb,
      TARGETS.e2eCompletionsPerS,
    ),
    holds('e2e: every request accepted (fixed rate)', r.phase.load.clean),
    holds('e2e: every payment SUCCEEDED (fixed rate)', r.drained && r.notSucceeded === 0),
    atMost(
      'e2e: accept-to-final p99 ms at fixed rate',
      r.acceptToFinalMs.p99,
      TARGETS.e2eP99AtRateMs,
    ),
  ];
}

export interface BenchResults {
  readonly date: string;
  readonly machine: MachineInfo;
  readonly source: SourceInfo;
  readonly loadAverageAfter: readonly number[];
  readonly config: BenchConfig;
  readonly targets: typeof TARGETS;
  readonly intake: IntakeResults | null;
  readonly endToEnd: EndToEndResults | null;
  /** Warnings and errors the apps logged, by app and message. */
  readonly appLogs: Record<string, Record<string, number>>;
  readonly checks: readonly Check[];
  readonly passed: boolean;
  readonly error: string | null;
}

export function buildResults(
  started: Date,
  machine: MachineInfo,
  source: SourceInfo,
  config: BenchConfig,
  intake: IntakeResults | null,
  endToEnd: EndToEndResults | null,
  appLogs: Record<string, Record<string, number>>,
  error: string | null,
): BenchResults {
  const checks = [
    ...(intake ? intakeChecks(intake) : []),
    ...(endToEnd ? e2eChecks(endToEnd) : []),
  ];
  return {
    date: started.toISOString(),
    machine,
    source,
    loadAverageAfter: machineInfo().loadAverage,
    config,
    targets: TARGETS,
    intake,
    endToEnd,
    appLogs,
    checks,
    passed: error === null && checks.every((c) => c.pass),
    error,
  };
}

/** Writes bench/results/<ISO timestamp>.json and returns its path. */
export function writeResults(results: BenchResults): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${results.date}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Text

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const cell = (text: string, i: number) =>
    i === 0 ? text.padEnd(widths[i]) : text.padStart(widths[i]);
  return rows.map((r) => r.map(cell).join('  ').trimEnd()).join('\n');
}

function errorsText(s: LoadStats): string {
  if (s.clean) return '0';
  return `${s.non2xx} non-2xx, ${s.graphqlErrors} gql, ${s.transportErrors} net`;
}

function loadRow(name: string, s: LoadStats): string[] {
  const load = s.mode === 'open' ? `${s.offeredRate}/s` : `${s.connections} conn`;
  return [
    name,
    load,
    `${s.durationS}`,
    String(s.accepted),
    String(s.acceptedPerS),
    s.latencyMs.p50.toFixed(1),
    s.latencyMs.p99.toFixed(1),
    errorsText(s),
  ];
}

const LOAD_HEADER = ['', 'load', 's', 'accepted', 'acc/s', 'p50 ms', 'p99 ms', 'errors'];

const pct = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));

/**
 * CPU % of one core per process group, with CPU milliseconds per payment where known, and the
 * % of the phase the group's main threads waited for a core.
 */
function cpuTable(phases: readonly [string, CpuReport, Record<string, number>?][]): string {
  const names = [...new Set(phases.flatMap(([, r]) => Object.keys(r.percent)))];
  const cell = (n: string, r: CpuReport, ms?: Record<string, number>) => {
    const perPayment = ms?.[n] === undefined ? '' : ` (${ms[n].toFixed(2)})`;
    const wait = r.waitingForCpu[n] === undefined ? '' : ` w${pct(r.waitingForCpu[n])}`;
    return r.percent[n] === undefined ? '-' : `${pct(r.percent[n])}${perPayment}${wait}`;
  };
  return table([
    ['CPU % of one core (ms/payment) w = % waiting for a core', ...phases.map(([p]) => p)],
    ...names.map((n) => [n, ...phases.map(([, r, ms]) => cell(n, r, ms))]),
    ['other processes', ...phases.map(([, r]) => pct(r.other))],
    ['stolen by the hypervisor (steal)', ...phases.map(([, r]) => pct(r.steal ?? 0))],
    ['machine busy (incl. steal)', ...phases.map(([, r]) => `${pct(r.machineBusy)}/${r.capacity}`)],
  ]);
}

function dbText(phases: readonly [string, PhaseReport][]): string {
  const parts = phases.map(
    ([name, p]) => `${name} ${p.db.commits} commits, ${p.db.rowsWritten} rows written`,
  );
  return `database work per payment (pg_stat_database, approximate): ${parts.join('; ')}`;
}

function sessionsText(phases: readonly [string, PhaseReport][]): string {
  const lines = phases.map(([name, p]) => {
    const parts = Object.entries(p.sessions).map(([state, n]) => `${state} ${n}`);
    return `  ${name}: ${parts.join(', ') || '(no samples)'}`;
  });
  const title = 'database sessions, average number per state (pg_stat_activity every 100 ms):';
  return [title, ...lines].join('\n');
}

function intakeText(intake: IntakeResults): string {
  const phases: [string, PhaseReport][] = [
    ['baseline', intake.baseline],
    ['gateway max', intake.product],
    ['gateway 70 %', intake.productAtRate],
  ];
  const { afterMax, afterRate } = intake.outboxBacklog;
  return [
    table([
      ['intake (createPayment)', ...LOAD_HEADER.slice(1)],
      loadRow('baseline Fastify+pg', intake.baseline.load),
      loadRow('product gateway, max', intake.product.load),
      loadRow('product gateway, 70 %', intake.productAtRate.load),
    ]),
    `ratio gateway/baseline: ${intake.ratio} (target >= ${TARGETS.intakeRatio}); per round ${intake.ratioPerRound.join(', ')}`,
    `outbox rows unpublished when the phase ended: ${afterMax} (max), ${afterRate} (70 %)`,
    `slowest half-seconds at 70 % (answers): ${formatSlowWindows(intake.productAtRate.load.slowestHalfSeconds)}`,
    dbText(phases),
    sessionsText(phases),
    '',
    cpuTable(phases.map(([name, p]) => [name, p.cpu, p.cpuMsPerPayment])),
  ].join('\n');
}

function scansText(e2e: EndToEndResults): string {
  const top = Object.entries(e2e.tableScans)
    .filter(([, t]) => t.rowsReadBySeqScans > 0)
    .slice(0, 4)
    .map(([name, t]) => `${name} ${t.seqScans} scans/${t.rowsReadBySeqScans} rows`);
  return `sequential scans over the whole end-to-end run: ${top.join('; ') || 'none'}`;
}

function e2eText(e2e: EndToEndResults): string {
  const { saturation: s, atRate: r } = e2e;
  const q = r.acceptToFinalMs;
  const phases: [string, PhaseReport][] = [
    ['saturation', s.phase],
    ['fixed rate', r.phase],
  ];
  return [
    table([
      ['end-to-end', ...LOAD_HEADER.slice(1)],
      loadRow('saturation (HTTP)', s.phase.load),
      loadRow('fixed rate (HTTP)', r.phase.load),
    ]),
    `saturation: ${s.openAtLoadEnd} payments not final when the load stopped; ` +
      `${s.drained ? 'all final after' : 'NOT all final within'} ${s.drainS} s more`,
    `  statuses ${JSON.stringify(s.counts.byStatus)}`,
    `  completions/s: ${s.completionsPerSDb} (database) / ${s.completionsPerSWall} (wall clock), ` +
      `target >= ${TARGETS.e2eCompletionsPerS}`,
    `fixed rate ${r.phase.load.offeredRate}/s: accept-to-final p50 ${q.p50} ms, p90 ${q.p90} ms, ` +
      `p99 ${q.p99} ms, max ${q.max} ms (target p99 <= ${TARGETS.e2eP99AtRateMs})`,
    `  statuses ${JSON.stringify(r.counts.byStatus)}; not SUCCEEDED: ${r.notSucceeded}` +
      (r.drained ? '' : ' (drain deadline passed)'),
    `  slowest half-seconds of the HTTP answers: ${formatSlowWindows(r.phase.load.slowestHalfSeconds)}`,
    dbText(phases),
    scansText(e2e),
    sessionsText(phases),
    '',
    cpuTable([
      ['saturation load', s.cpuLoad],
      ['saturation drain', s.cpuDrain],
      ['saturation all', s.phase.cpu, s.phase.cpuMsPerPayment],
      ['fixed rate', r.phase.cpu, r.phase.cpuMsPerPayment],
    ]),
  ].join('\n');
}

function logsText(appLogs: BenchResults['appLogs']): string {
  const lines = Object.entries(appLogs).flatMap(([app, messages]) =>
    Object.entries(messages).map(([msg, n]) => `  ${app}: ${n} x ${msg}`),
  );
  return ['warnings and errors logged by the apps:', ...(lines.length ? lines : ['  none'])].join(
    '\n',
  );
}

function checksText(checks: readonly Check[]): string {
  const rows = checks.map((c) => [c.name, String(c.value), c.target, c.pass ? 'PASS' : 'FAIL']);
  return table([['check', 'value', 'target', 'result'], ...rows]);
}

export function formatResults(results: BenchResults): string {
  const m = results.machine;
  const c = results.config;
  const parts = [
    `benchmark ${results.date}: ${m.cpus} x ${m.model}, ${m.totalMemMiB} MiB, node ${m.node}`,
    `load average before ${m.loadAverage.join(' ')}, after ${results.loadAverageAfter.join(' ')}`,
    `code ${results.source.commit.slice(0, 12)} + ${results.source.uncommittedFiles} uncommitted files`,
    `phases ${c.durationS} s (intake comparison in ${c.rounds} interleaved rounds), warm-up ${c.warmupS} s`,
  ];
  if (results.intake) parts.push('', intakeText(results.intake));
  if (results.endToEnd) parts.push('', e2eText(results.endToEnd));
  parts.push('', logsText(results.appLogs), '', checksText(results.checks));
  if (results.error) parts.push('', `RUN FAILED: ${results.error}`);
  parts.push('', results.passed ? 'all checks passed' : 'SOME CHECKS FAILED (or the run failed)');
  return parts.join('\n');
}
