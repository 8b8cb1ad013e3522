import 'reflect-metadata';
import { AppConfig, runMain } from '../../../libs/config/src';
import { startGateway } from '../../gateway/src/main';
import { startLedger } from '../../ledger/src/main';
import { serveWorkerMetrics, startWorker } from '../../worker/src/main';

/**
 * `npm start`: the services named in SERVICES (gateway, worker, ledger) in one process, for a
 * single machine. Production runs each app on its own; the code is the same.
 */
async function startAll(config: AppConfig): Promise<void> {
  if (config.services.includes('worker')) {
    const worker = await startWorker(config);
    // Without the gateway nothing serves GET /metrics: the worker's own port does.
    if (!config.services.includes('gateway')) await serveWorkerMetrics(worker, config);
  }
  if (config.services.includes('ledger')) await startLedger(config);
  if (config.services.includes('gateway')) await startGateway(config);
}

void runMain('payment-gateway', startAll);
