// End-to-end harness: one isolated stack (database, NATS namespace, gateway and worker as real
// child processes) per test file. See startStack().
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { NatsConnection, connect } from '@nats-io/transport-node';
import { JetStreamManager, StreamInfo, jetstreamManager } from '@nats-io/jetstream';
import { Subjects } from '../../libs/contracts/src/subjects';
import { ApiKeyService } from '../../libs/payments/src/api-keys/api-key.service';
import { SqlSimulatorStore } from '../../adapters/simulator/src/sql-simulator-store';
import { createTestDatabase, uniqueName } from './database';

export const ROOT = join(__dirname, '..', '..');
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const READY_TIMEOUT_MS = 30_000;
const KILL_GRACE_MS = 5_000;
const LOG_LINES = 400;

/** Every child any stack in this process started: killed on exit whatever happens. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** The last lines a set of processes printed, interleaved, each prefixed with its name. */
export class LogBuffer {
  private readonly lines: string[] = [];

  push(source: string, chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push(`[${source}] ${line}`);
      if (this.lines.length > LOG_LINES) this.lines.shift();
    }
  }

  tail(n = 60): string {
    return this.lines.slice(-n).join('\n');
  }
}

export type AppName = 'gateway' | 'worker';

/** One app (gateway or worker) run as `npm start` runs it: `node dist/apps/<name>/src/main.js`. */
export class AppProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private expectingExit = false;
  private stdout = '';

  constructor(
    readonly name: AppName,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logs: LogBuffer,
    private readonly readyUrl?: string,
  ) {}

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the process and resolves when it is ready (gateway: /readyz 200; worker: "started"). */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    installExitHook();
    this.expectingExit = false;
    this.stdout = '';
    const child = spawn(
      process.execPath,
      [
        '-r',
        join(ROOT, 'test/support/orphan-guard.js'),
        // As `npm start` runs it: compiled by scripts/build.js (the e2e project's global set-up).
        `dist/apps/${this.name}/src/main.js`,
      ],
      { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    liveChildren.add(child);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.stdout.length < 100_000) this.stdout += chunk;
      this.logs.push(this.name, chunk);
    });
    child
      .stderr!.setEncoding('utf8')
      .on('data', (chunk: string) => this.logs.push(`${this.name}!`, chunk));
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        liveChildren.delete(child);
        if (!this.expectingExit) {
          process.stderr.write(
            `\n[e2e] ${this.name} (pid ${child.pid}) died unexpectedly (code ${code}, signal ${signal}); last output:\n` +
              `${this.logs.tail()}\n`,
          );
        }
        resolve();
      });
    });
    try {
      await this.waitReady(child);
    } catch (error) {
      await this.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- last output ---\n${this.logs.tail()}`);
    }
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `${this.name} exited during start (code ${child.exitCode}, signal ${child.signalCode})`,
        );
      }
      if (this.readyUrl) {
        try {
          const response = await fetch(this.readyUrl, { signal: AbortSignal.timeout(2000) });
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
      } else if (this.stdout.includes('"msg":"started"')) {
        return;
      }
      await sleep(100);
    }
    throw new Error(`${this.name} not ready within ${READY_TIMEOUT_MS} ms`);
  }

  /**
   * Sends `signal` and waits for the exit. SIGTERM escalates to SIGKILL after 5 s. Killing a
   * process that is not running is a no-op.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectingExit = true;
    child.kill(signal);
    const escalate = setTimeout(
      () => child.kill('SIGKILL'),
      signal === 'SIGKILL' ? 0 : KILL_GRACE_MS,
    );
    try {
      await this.exited;
    } finally {
      clearTimeout(escalate);
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL) if it runs, and starts it again. */
  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await this.start();
  }
}

export interface StackOptions {
  /** Extra environment for both apps (overrides the harness defaults). */
  readonly env?: Record<string, string>;
  readonly gatewayEnv?: Record<string, string>;
  readonly workerEnv?: Record<string, string>;
  /** Start the worker with the stack (default true). */
  readonly startWorker?: boolean;
}

export interface Stack {
  /** Base URL of the gateway, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  /** POST endpoint of GraphQL. */
  readonly graphqlUrl: string;
  readonly wsUrl: string;
  readonly databaseUrl: string;
  /** The test's own connection to the stack's database, for assertions. */
  readonly dataSource: DataSource;
  readonly namespace: string;
  readonly subjects: Subjects;
  readonly gateway: AppProcess;
  readonly worker: AppProcess;
  readonly logs: LogBuffer;
  /** Creates an API client with these scopes and returns its bearer key. */
  createApiKey(name: string, scopes: readonly string[]): Promise<string>;
  /** Same, through `apps/cli` (proves the operator path prints the key on its last line). */
  createApiKeyWithCli(name: string, scopes: readonly string[]): Promise<string>;
  revokeApiKey(name: string): Promise<boolean>;
  /** Charges the simulated processor holds for this payment id. */
  chargeCount(paymentId: string): Promise<number>;
  /** JetStream stream state (messages, last_seq, …) of one of the namespace's streams. */
  streamInfo(stream: 'commands' | 'events' | 'deadLetters'): Promise<StreamInfo>;
  jsm(): Promise<JetStreamManager>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asks the kernel, then releases it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
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

/** Resolves after `ms`; the timer does not keep the process alive (safe in Promise.race). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Whether the test now running (jest-circus) has failed so far; false when unknown. */
function currentTestFailed(): boolean {
  const sym = Object.getOwnPropertySymbols(globalThis).find(
    (s) => s.description === 'JEST_STATE_SYMBOL',
  );
  const state = sym ? (globalThis as Record<symbol, unknown>)[sym] : undefined;
  const test = (state as { currentlyRunningTest?: { errors?: unknown[] } } | undefined)
    ?.currentlyRunningTest;
  return Boolean(test?.errors?.length);
}

/**
 * For afterEach: prints the tail of the apps' output when the test that just ran failed, e.g.
 * `afterEach(() => printLogsIfFailed(stack))`.
 */
export function printLogsIfFailed(stack: Stack | undefined, lines = 80): void {
  if (stack && currentTestFailed()) {
    process.stderr.write(
      `\n[e2e] test failed; last output of ${stack.namespace}:\n${stack.logs.tail(lines)}\n`,
    );
  }
}

/** Stacks of this test file still starting or running (each jest worker has its own). */
const starting = new Set<Promise<unknown>>();
const running = new Set<Stack>();

/**
 * Stops every stack this test file started, including one still starting (e.g. when the
 * beforeAll that started it timed out): use as `afterAll(stopAllStacks)`.
 */
export async function stopAllStacks(): Promise<void> {
  await Promise.allSettled([...starting]);
  await Promise.all([...running].map((stack) => stack.stop()));
}

/**
 * Starts one isolated stack for a test file: a migrated database of its own, a NATS namespace
 * of its own, and the gateway and worker as child processes. Stop it with `stop()` or
 * `stopAllStacks()` in afterAll.
 */
export function startStack(options: StackOptions = {}): Promise<Stack> {
  const start = startStackNow(options);
  starting.add(start);
  void start.then(
    (stack) => {
      starting.delete(start);
      running.add(stack);
    },
    () => starting.delete(start),
  );
  return start;
}

async function startStackNow(options: StackOptions): Promise<Stack> {
  const db = await createTestDatabase();
  const namespace = uniqueName('t');
  const subjects = new Subjects(namespace);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs = new LogBuffer();
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    E2E_PARENT_PID: String(process.pid),
    DATABASE_URL: db.url,
    NATS_URL,
    NATS_NAMESPACE: namespace,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKER_METRICS_PORT: '0', // parallel stacks must not fight over one port
    DB_POOL_SIZE: '5',
    STATUS_SYNC_AFTER_MS: '500',
    JANITOR_INTERVAL_MS: '500',
    WORKER_CONCURRENCY: '16',
    ...options.env,
  };
  const gateway = new AppProcess(
    'gateway',
    { ...baseEnv, PORT: String(port), SERVICES: 'gateway', ...options.gatewayEnv },
    logs,
    `${url}/readyz`,
  );
  // The worker serves no HTTP, but PORT must still be valid; give it one nobody listens on.
  const worker = new AppProcess(
    'worker',
    { ...baseEnv, PORT: '0', SERVICES: 'worker', ...options.workerEnv },
    logs,
  );
  const apiKeys = new ApiKeyService(db.dataSource, 0);
  const simulator = new SqlSimulatorStore(db.dataSource);
  let nc: NatsConnection | undefined;
  const jsm = async (): Promise<JetStreamManager> => {
    if (!nc || nc.isClosed()) {
      const u = new URL(NATS_URL);
      nc = await connect({ servers: `${u.hostname}:${u.port || 4222}`, name: `e2e-${namespace}` });
    }
    return jetstreamManager(nc);
  };

  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= stopNow());
  const stopNow = async () => {
    await Promise.allSettled([gateway.kill('SIGTERM'), worker.kill('SIGTERM')]);
    try {
      const manager = await jsm();
      for (const spec of Object.values(subjects.streams)) {
        await manager.streams.delete(spec.name).catch(() => undefined);
      }
    } finally {
      await nc?.close().catch(() => undefined);
      await db.drop();
    }
    if (process.env.E2E_LOGS)
      process.stderr.write(`\n[e2e] logs of ${namespace}:\n${logs.tail(LOG_LINES)}\n`);
  };

  try {
    // The gateway first: it migrates and creates the streams; the worker then finds both.
    await gateway.start();
    if (options.startWorker !== false) await worker.start();
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }

  const stack: Stack = {
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    databaseUrl: db.url,
    dataSource: db.dataSource,
    namespace,
    subjects,
    gateway,
    worker,
    logs,
    createApiKey: async (name, scopes) => (await apiKeys.create(name, scopes)).key,
    createApiKeyWithCli: (name, scopes) =>
      runCli(db.url, ['api-keys', 'create', '--name', name, '--scopes', scopes.join(',')]),
    revokeApiKey: (name) => apiKeys.revoke(name),
    chargeCount: (paymentId) => simulator.chargeCount(paymentId),
    streamInfo: async (stream) => (await jsm()).streams.info(subjects.streams[stream].name),
    jsm,
    stop: async () => {
      await stop();
      running.delete(stack);
    },
  };
  return stack;
}

/** Runs the CLI against this database and returns the last line of its stdout. */
async function runCli(databaseUrl: string, args: string[]): Promise<string> {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'apps/cli/src/main.ts', ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  liveChildren.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  liveChildren.delete(child);
  if (code !== 0) throw new Error(`cli ${args.join(' ')} exited with ${code}: ${stderr}`);
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1].trim();
}
