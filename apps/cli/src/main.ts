import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../../../libs/config/src';
import { createDataSource, ensureDatabase, runMigrations } from '../../../libs/persistence/src';
import { ApiKeyService } from '../../../libs/payments/src';
import { PaymentsError } from '../../../libs/domain/src';
import { LEDGER_EXPORT_USAGE, ledgerExportCommand } from './ledger-export.command';
import { RECONCILE_USAGE, ReconcileArgsError, reconcileCommand } from './reconcile.command';
import { ReconciliationRequestError } from '../../../libs/ledger/src/reconciliation';

const USAGE = `usage:
  npm run cli -- api-keys create --name NAME --scopes a,b,c   prints the new key alone on the last line
  npm run cli -- api-keys revoke --name NAME
${LEDGER_EXPORT_USAGE}
${RECONCILE_USAGE}`;

async function apiKeys(action: string | undefined, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { name: { type: 'string' }, scopes: { type: 'string' } },
  });
  if (!values.name || (action !== 'create' && action !== 'revoke')) throw new UsageError();
  const config = loadConfig(process.env);
  await ensureDatabase(config.databaseUrl);
  const dataSource = createDataSource({
    url: config.databaseUrl,
    poolSize: 1,
    applicationName: 'cli',
  });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    const service = new ApiKeyService(dataSource, 0);
    if (action === 'create') {
      const scopes = (values.scopes ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const { client, key } = await service.create(values.name, scopes);
      process.stderr.write(
        `created API client ${client.name} (${client.id}) with scopes ${client.scopes.join(',')}\n`,
      );
      process.stderr.write('the key is shown once; store it now:\n');
      process.stdout.write(`${key}\n`);
    } else {
      const revoked = await service.revoke(values.name);
      if (!revoked) throw PaymentsError.notFound(`active API client "${values.name}"`);
      process.stdout.write(`revoked ${values.name}\n`);
    }
  } finally {
    await dataSource.destroy();
  }
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, action, ...rest] = argv;
  try {
    if (command === 'ledger') {
      const usage = () => new UsageError();
      await ledgerExportCommand(action, rest, () => loadConfig(process.env), usage);
      return 0;
    }
    if (command === 'reconcile') {
      await reconcileCommand(argv.slice(1), loadConfig(process.env));
      return 0;
    }
    if (command !== 'api-keys') throw new UsageError();
    await apiKeys(action, rest);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    else if (error instanceof ReconcileArgsError || error instanceof ReconciliationRequestError) {
      process.stderr.write(`error: ${error.message}\n${USAGE}\n`);
      return 64;
    } else if (error instanceof ConfigError || error instanceof PaymentsError)
      process.stderr.write(`error: ${error.message}\n`);
    else process.stderr.write(`error: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 64 : 1;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
