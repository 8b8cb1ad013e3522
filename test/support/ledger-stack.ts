// Adds the ledger app (compiled apps/ledger/src/main.ts as a child process) to an e2e stack.
import { AppName, AppProcess, Stack } from './stack';

/** Starts the ledger against the stack's database and NATS namespace; resolves once started. */
export async function startLedgerProcess(
  stack: Stack,
  env: Record<string, string> = {},
): Promise<AppProcess> {
  const ledger = new AppProcess(
    // AppProcess runs `dist/apps/<name>/src/main.js`; the ledger follows the same layout.
    'ledger' as AppName,
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      E2E_PARENT_PID: String(process.pid),
      DATABASE_URL: stack.databaseUrl,
      NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: stack.namespace,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      DB_POOL_SIZE: '5',
      SERVICES: 'ledger',
      LEDGER_BATCH_WAIT_MS: '20',
      ...env,
    },
    stack.logs,
  );
  await ledger.start();
  return ledger;
}
