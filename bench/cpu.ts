// CPU time per process group over a phase, read from /proc (Linux): utime + stime of every
// process at the start and at the end. 100 % = one core busy for the whole phase. Also the time
// each group's main threads were runnable but waiting for a core (/proc/<pid>/schedstat): a
// process that waits long for a core is starved by the others, not slow by itself.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

const CLK_TCK = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

interface ProcInfo {
  readonly comm: string;
  readonly ticks: number;
  /** Nanoseconds the main thread spent runnable, waiting for a core. */
  readonly waitNs: number;
}

/** `/proc/<pid>/stat`: the name is in parentheses; utime and stime are fields 14 and 15. */
function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    return { comm, ticks: Number(fields[11]) + Number(fields[12]), waitNs: runQueueWait(pid) };
  } catch {
    return undefined; // gone
  }
}

function runQueueWait(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) || 0;
  } catch {
    return 0;
  }
}

function snapshotProcesses(): Map<number, ProcInfo> {
  const processes = new Map<number, ProcInfo>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProc(Number(entry));
    if (info) processes.set(Number(entry), info);
  }
  return processes;
}

interface MachineTicks {
  readonly busy: number;
  readonly total: number;
  /** Time the hypervisor ran something else while this machine wanted its CPU. */
  readonly steal: number;
}

/** Busy, stolen and total jiffies of the whole machine (first line of /proc/stat). */
function machineTicks(): MachineTicks {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = values[3] + values[4];
  return { busy: total - idle, total, steal: values[7] ?? 0 };
}

/** A named set of processes, resolved at the end of the phase. */
export interface CpuGroup {
  readonly name: string;
  readonly select: (pid: number, comm: string) => boolean;
  /** Part of another group (not added again when computing `other`). */
  readonly subset?: boolean;
}

export const byPid = (name: string, pid: number | undefined): CpuGroup => ({
  name,
  select: (p) => p === pid,
});

export const byComm = (name: string, comm: string): CpuGroup => ({
  name,
  select: (_p, c) => c === comm,
});

export interface CpuReport {
  readonly wallS: number;
  /** Percent of one core, per group. */
  readonly percent: Record<string, number>;
  /** Time runnable but waiting for a core, percent of the phase, per group (main threads). */
  readonly waitingForCpu: Record<string, number>;
  /** Whole machine busy, percent of one core (at most cores × 100); includes `steal`. */
  readonly machineBusy: number;
  /**
   * CPU the hypervisor gave to other guests while this machine wanted it, percent of one core:
   * on a shared virtual machine, the part of a slow phase that is not ours.
   */
  readonly steal: number;
  /** Machine busy minus the groups: other processes (e.g. other people's test suites). */
  readonly other: number;
  readonly capacity: number;
}

interface Snapshot {
  readonly at: number;
  readonly processes: Map<number, ProcInfo>;
  readonly machine: MachineTicks;
}

function takeSnapshot(): Snapshot {
  return { at: performance.now(), processes: snapshotProcesses(), machine: machineTicks() };
}

function groupDelta(group: CpuGroup, start: Snapshot, end: Snapshot) {
  let ticks = 0;
  let waitNs = 0;
  for (const [pid, info] of end.processes) {
    if (!group.select(pid, info.comm)) continue;
    const before = start.processes.get(pid);
    ticks += info.ticks - (before?.ticks ?? 0);
    waitNs += info.waitNs - (before?.waitNs ?? 0);
  }
  return { ticks, waitNs };
}

/** Measures the groups between `start()` and `stop()`. */
export class CpuMeter {
  private begin?: Snapshot;

  constructor(private readonly groups: readonly CpuGroup[]) {}

  start(): void {
    this.begin = takeSnapshot();
  }

  stop(): CpuReport {
    if (!this.begin) throw new Error('CpuMeter.stop() before start()');
    const end = takeSnapshot();
    const wallS = (end.at - this.begin.at) / 1000;
    const toPercent = (ticks: number) => round1((ticks / CLK_TCK / wallS) * 100);
    const percent: Record<string, number> = {};
    const waitingForCpu: Record<string, number> = {};
    let known = 0;
    for (const group of this.groups) {
      const { ticks, waitNs } = groupDelta(group, this.begin, end);
      if (!group.subset) known += ticks;
      percent[group.name] = toPercent(ticks);
      waitingForCpu[group.name] = round1((waitNs / 1e9 / wallS) * 100);
    }
    const cores = cpus().length;
    const machine = end.machine;
    const elapsed = machine.total - this.begin.machine.total;
    const machineBusy = round1(((machine.busy - this.begin.machine.busy) / elapsed) * cores * 100);
    const steal = round1(((machine.steal - this.begin.machine.steal) / elapsed) * cores * 100);
    return {
      wallS: round1(wallS),
      percent,
      waitingForCpu,
      machineBusy,
      steal,
      other: round1(Math.max(0, machineBusy - steal - toPercent(known))),
      capacity: cores * 100,
    };
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** One report for several measured windows (e.g. interleaved rounds), weighted by duration. */
export function mergeCpu(reports: readonly CpuReport[]): CpuReport {
  const wallS = reports.reduce((sum, r) => sum + r.wallS, 0);
  const weighted = (value: (r: CpuReport) => number | undefined) =>
    round1(reports.reduce((sum, r) => sum + (value(r) ?? 0) * r.wallS, 0) / wallS);
  const names = [...new Set(reports.flatMap((r) => Object.keys(r.percent)))];
  return {
    wallS: round1(wallS),
    percent: Object.fromEntries(names.map((n) => [n, weighted((r) => r.percent[n])])),
    waitingForCpu: Object.fromEntries(names.map((n) => [n, weighted((r) => r.waitingForCpu[n])])),
    machineBusy: weighted((r) => r.machineBusy),
    steal: weighted((r) => r.steal),
    other: weighted((r) => r.other),
    capacity: reports[0].capacity,
  };
}

/** CPU milliseconds per payment of each group: where the work of one payment goes. */
export function cpuMsPerPayment(report: CpuReport, payments: number): Record<string, number> {
  const perPayment = (percent: number) =>
    payments > 0 ? Math.round(((percent / 100) * report.wallS * 1000 * 100) / payments) / 100 : 0;
  return Object.fromEntries(Object.entries(report.percent).map(([n, p]) => [n, perPayment(p)]));
}
