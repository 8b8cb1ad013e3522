import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LedgerExportService } from '../../../../libs/ledger/src/exports';
import { LOGGER, Logger, Metrics } from '../../../../libs/observability/src';

/** How often every ledger process sweeps for interrupted and unqueued exports. */
export const EXPORT_RECOVERY_INTERVAL_MS = 60_000;

/**
 * Exports outlive the ledger process that accepted them: at boot and every minute, interrupted
 * exports (stale heartbeat) go back to pending and pending ones nobody runs are queued here
 * (LedgerExportService.recoverInterrupted).
 */
@Injectable()
export class LedgerExportRecoveryJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly exports: LedgerExportService,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), EXPORT_RECOVERY_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    try {
      const { queued, failed } = await this.exports.recoverInterrupted();
      if (queued.length > 0) {
        this.metrics.ledgerExportsRecovered.inc({ outcome: 'queued' }, queued.length);
        this.logger.warn({ exports: queued }, 'ledger exports queued by recovery');
      }
      if (failed.length > 0) {
        this.metrics.ledgerExportsRecovered.inc({ outcome: 'failed' }, failed.length);
        this.logger.error({ exports: failed }, 'ledger exports interrupted too often: failed');
      }
    } catch (error) {
      this.logger.error({ err: error }, 'ledger export recovery sweep failed');
    }
  }
}
