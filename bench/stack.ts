// The pieces a benchmark stack is built from: databases, NATS namespaces and child processes
// (product apps, baseline server), each registered with a Cleanup so a run leaves nothing behind.
import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Subjects } from '../libs/contracts/src/subjects';
import { ApiKeyService } from '../libs/payments/src/api-keys/api-key.service';
import { createDataSource, ensureDatabase, runMigrations } from '../libs/persistence/src';
import { uniqueName } from '../test/support/database';
import { Cleanup } from './cleanup';

export const ROOT = join(__dirname, '..');
const READY_TIMEOUT_MS = 60_000;
const KILL_GRACE_MS = 5_000;
const LOG_LINES = 80;

export { uniqueName };

/** Every app started in this run, for the summary of what they logged. */
const startedApps: ChildApp[] = [];

/** Warnings and errors each app logged (pino level >= 40, and stderr), counted by message. */
export function appLogSummary(): Record<string, Record<string, number>> {
  return Object.fromEntries(startedApps.map((app) => [app.spec.name, app.logSummary()]));
}

/** Children still running: SIGKILLed when the benchmark process exits, whatever the reason. */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A free TCP port on 127.0.0.1 (asks the kernel, then releases it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Databases

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  /** The benchmark's own small pool, for set-up and for reading results. */
  readonly dataSource: DataSource;
}

/** Where scripts/build.js put the JavaScript of a TypeScript source (relative to the root). */
function compiled(script: string): string {
  return join('dist', script.replace(/\.ts$/, '.js'));
}

export const APP_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Creates and migrates a database of its own; the cleanup drops it. */
export async function createDatabase(
  cleanup: Cleanup,
  adminUrl: string,
  prefix: string,
): Promise<BenchDatabase> {
  const name = uniqueName(prefix);
  const url = databaseUrl(adminUrl, name);
  cleanup.add(`drop database ${name}`, () => dropDatabase(adminUrl, name));
  await ensureDatabase(url);
  // 3: a batch reconciliation's two shards side by side plus its run lock (bench/reconciliation.ts)
  const dataSource = createDataSource({ url, poolSize: 3, applicationName: 'bench' });
  await dataSource.initialize();
  cleanup.add(`close pool of ${name}`, () => dataSource.destroy());
  await runMigrations(dataSource);
  return { name, url, dataSource };
}

export interface BenchClient {
  readonly id: string;
  readonly key: string;
}

/** An API client allowed to create payments, made the way the product's CLI makes one. */
export async function createApiClient(db: BenchDatabase, name: string): Promise<BenchClient> {
  const { client, key } = await new ApiKeyService(db.dataSource, 0).create(name, [
    'payments:read',
    'payments:write',
  ]);
  return { id: client.id, key };
}

// ---------------------------------------------------------------------------------------------
// NATS

/** A fresh NATS namespace; the cleanup deletes its streams (and with them the consumers). */
export function createNamespace(cleanup: Cleanup, natsUrl: string, prefix: string): string {
  const namespace = uniqueName(prefix);
  cleanup.add(`delete streams of ${namespace}`, () => deleteStreams(natsUrl, namespace));
  return namespace;
}

async function deleteStreams(natsUrl: string, namespace: string): Promise<void> {
  const url = new URL(natsUrl);
  const nc = await connect({ servers: `${url.hostname}:${url.port || 4222}`, name: 'bench' });
  try {
    const jsm = await jetstreamManager(nc);
    for (const spec of Object.values(new Subjects(namespace).streams)) {
      await jsm.streams.delete(spec.name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

export interface ChildSpec {
  readonly name: string;
  /** Entry file relative to the repository root, run with @swc-node/register. */
  readonly script: string;
  readonly env: Record<string, string>;
  /** Ready when this URL answers 200 ... */
  readonly readyUrl?: string;
  /** ... or when stdout contains this text. */
  readonly readyText?: string;
}

/** One process of the stack: spawned, awaited until ready, stopped by the cleanup. */
export class ChildApp {
  private readonly lines: string[] = [];
  private readonly logged = new Map<string, number>();
  private stdout = '';
  private exited: Promise<void>;
  private expectingExit = false;

  private constructor(
    readonly spec: ChildSpec,
    private readonly child: ChildProcess,
  ) {
    liveChildren.add(child);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.capture(chunk, true));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.capture(chunk, false));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        liveChildren.delete(child);
        if (!this.expectingExit) {
          console.error(`\n${spec.name} exited unexpectedly (code ${code}, signal ${signal}):`);
          console.error(this.tail());
        }
        resolve();
      });
    });
  }

  /** Spawns the process, registers its stop with the cleanup and waits until it is ready. */
  static async start(cleanup: Cleanup, spec: ChildSpec): Promise<ChildApp> {
    const child = spawn(
      process.execPath,
      [
        // The flags `npm start` runs the apps with (package.json), for every child alike
        // (product and baselines): a 32 MB young generation (docs/decisions.md #16).
        ...APP_NODE_FLAGS,
        // BENCH_CHILD_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the apps.
        ...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        // Compiled by `npm run bench` (scripts/build.js --bench), as `npm start` runs the apps.
        '-r',
        join(ROOT, 'dist/bench/orphan-guard.js'),
        compiled(spec.script),
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...spec.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const app = new ChildApp(spec, child);
    startedApps.push(app);
    cleanup.add(`stop ${spec.name}`, () => app.stop());
    await app.waitReady();
    return app;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(): string {
    return this.lines.join('\n');
  }

  logSummary(): Record<string, number> {
    return Object.fromEntries(this.logged);
  }

  /** SIGTERM, then SIGKILL after a grace period; a no-op once the process is gone. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.expectingExit = true;
    this.child.kill('SIGTERM');
    const escalate = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
    await this.exited;
    clearTimeout(escalate);
  }

  private capture(chunk: string, isStdout: boolean): void {
    if (isStdout && this.stdout.length < 100_000) this.stdout += chunk;
    // BENCH_CHILD_LOG_DIR (diagnostics): every line each app wrote, in <dir>/<app>.log.
    const logDir = process.env.BENCH_CHILD_LOG_DIR;
    if (logDir) appendFileSync(join(logDir, `${this.spec.name}.log`), chunk);
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      const key = logKey(line, isStdout);
      if (key) this.logged.set(key, (this.logged.get(key) ?? 0) + 1);
      this.lines.push(`[${this.spec.name}${isStdout ? '' : '!'}] ${line}`);
      if (this.lines.length > LOG_LINES) this.lines.shift();
    }
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.spec.name} exited during start:\n${this.tail()}`);
      if (await this.isReady()) return;
      await sleep(200);
    }
    throw new Error(`${this.spec.name} not ready within ${READY_TIMEOUT_MS} ms:\n${this.tail()}`);
  }

  private async isReady(): Promise<boolean> {
    if (this.spec.readyText !== undefined) return this.stdout.includes(this.spec.readyText);
    if (this.spec.readyUrl === undefined) return true;
    try {
      const response = await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(2000) });
      return response.status === 200;
    } catch {
      return false;
    }
  }
}

const LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

/** `warn: <msg>` for a pino line at warn or above, `stderr: <text>` for stderr, else null. */
function logKey(line: string, isStdout: boolean): string | null {
  if (!isStdout) return `stderr: ${line.slice(0, 120)}`;
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
    if (typeof entry.level !== 'number' || entry.level < 40) return null;
    return `${LEVELS[entry.level] ?? entry.level}: ${String(entry.msg).slice(0, 120)}`;
  } catch {
    return `stdout: ${line.slice(0, 120)}`;
  }
}

/** Environment shared by every product process of a stack. */
export function productEnv(
  db: BenchDatabase,
  namespace: string,
  natsUrl: string,
  poolSize: number,
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    BENCH_PARENT_PID: String(process.pid),
    DATABASE_URL: db.url,
    DB_POOL_SIZE: String(poolSize),
    NATS_URL: natsUrl,
    NATS_NAMESPACE: namespace,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SIMULATOR_LATENCY_MS: '0',
  };
}

/** The product's gateway alone, or gateway and worker (SERVICES), as apps/all runs them. */
export async function startProduct(
  cleanup: Cleanup,
  name: string,
  services: 'gateway' | 'worker' | 'gateway,worker',
  env: Record<string, string>,
): Promise<{ app: ChildApp; url: string }> {
  const port = services === 'worker' ? 0 : await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = await ChildApp.start(cleanup, {
    name,
    script: 'apps/all/src/main.ts',
    env: { ...env, SERVICES: services, PORT: String(port) },
    ...(services === 'worker' ? { readyText: '"msg":"started"' } : { readyUrl: `${url}/readyz` }),
  });
  return { app, url };
}
