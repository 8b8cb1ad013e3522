import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../../../libs/config/src';
import { LedgerExportService, loadExportMapping } from '../../../../libs/ledger/src/exports';

/** The export service; the mapping file is read and validated here, at boot (a bad one stops it). */
export const ledgerExportProvider: Provider = {
  provide: LedgerExportService,
  inject: [DataSource, APP_CONFIG],
  useFactory: (dataSource: DataSource, config: AppConfig) =>
    new LedgerExportService(dataSource, {
      dir: config.ledger.exportDir,
      mapping: loadExportMapping(config.ledger.exportMappingPath),
    }),
};
