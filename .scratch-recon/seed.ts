import { Client } from 'pg';
import { createDataSource, ensureDatabase, runMigrations } from '../libs/persistence/src';
import { seed } from '../bench/reconciliation';

async function main() {
  const name = process.argv[2];
  const lines = Number(process.argv[3]);
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  await ensureDatabase(url);
  const ds = createDataSource({ url, poolSize: 2, applicationName: 'seed' });
  await ds.initialize();
  await runMigrations(ds);
  await ds.destroy();
  const c = new Client({ connectionString: url });
  await c.connect();
  const t = Date.now();
  await seed(c, lines, console.log);
  console.log('seeded', (Date.now() - t) / 1000);
  await c.end();
}
main().catch((e) => { console.error(e); process.exit(1); });
