import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppConfig } from '../../../libs/config/src';
import { parseMessage } from '../../../libs/contracts/src';
import {
  LedgerExportService,
  exportRequest,
  loadExportMapping,
} from '../../../libs/ledger/src/exports';
import { createDataSource, ensureDatabase, runMigrations } from '../../../libs/persistence/src';

export const LEDGER_EXPORT_USAGE = `  npm run cli -- ledger export --format netsuite|quickbooks|csv|jsonl --from ISO --to ISO [--currency USD] [--out FILE]
      posted journal lines with from <= occurred_at < to; prints the export record (JSON) on stdout`;

/** `2026-03-01` means its midnight UTC; anything else must be an ISO instant with an offset. */
const instant = (value: string | undefined) =>
  value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value;

/**
 * `ledger export`: runs one journal export in this process (for cron and scheduled jobs), with
 * the ledger's own code, mapping (LEDGER_EXPORT_MAPPING) and directory (LEDGER_EXPORT_DIR), and
 * records it in ledger_exports like an export requested over the API.
 */
export async function ledgerExportCommand(
  action: string | undefined,
  args: string[],
  config: () => AppConfig,
  usage: () => Error,
): Promise<void> {
  if (action !== 'export') throw usage();
  const { values } = parseArgs({
    args,
    options: {
      format: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      currency: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.format || !values.from || !values.to) throw usage();
  const parsed = parseMessage(exportRequest, {
    format: values.format,
    from: instant(values.from),
    to: instant(values.to),
    currency: values.currency,
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  const c = config();
  const mapping = loadExportMapping(c.ledger.exportMappingPath);
  await ensureDatabase(c.databaseUrl);
  const dataSource = createDataSource({ url: c.databaseUrl, poolSize: 2, applicationName: 'cli' });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    const service = new LedgerExportService(dataSource, { dir: c.ledger.exportDir, mapping });
    const created = await service.create(parsed.value);
    const done = await service.run(created.id, values.out ? resolve(values.out) : undefined);
    process.stdout.write(`${JSON.stringify(done)}\n`);
  } finally {
    await dataSource.destroy();
  }
}
