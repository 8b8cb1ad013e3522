import { PaymentsSchema1763700000000 } from './1763700000000-payments-schema';
import { RoutingSchema1763800000000 } from './1763800000000-routing-schema';
import { WebhookEvents1763950000000 } from './1763950000000-webhook-events';
import { DisputesPayouts1764000000000 } from './1764000000000-disputes-payouts';
import { Ledger1764100000000 } from './1764100000000-ledger';
import { LedgerBatchChecks1764110000000 } from './1764110000000-ledger-batch-checks';
import { LedgerExports1764200000000 } from './1764200000000-ledger-exports';
import { Reconciliation1764300000000 } from './1764300000000-reconciliation';
import { ReconciliationEngine1764310000000 } from './1764310000000-reconciliation-engine';
import { LedgerStatementChecks1764400000000 } from './1764400000000-ledger-statement-checks';
import { ReconciliationItemIndexes1764500000000 } from './1764500000000-reconciliation-item-indexes';
import { LedgerExportRecovery1764510000000 } from './1764510000000-ledger-export-recovery';
import { LedgerStatementNotes1764600000000 } from './1764600000000-ledger-statement-notes';

/** Every migration, in order. Listed explicitly so no glob depends on the build layout. */
export const MIGRATIONS = [
  PaymentsSchema1763700000000,
  RoutingSchema1763800000000,
  WebhookEvents1763950000000,
  DisputesPayouts1764000000000,
  Ledger1764100000000,
  LedgerBatchChecks1764110000000,
  LedgerExports1764200000000,
  Reconciliation1764300000000,
  ReconciliationEngine1764310000000,
  LedgerStatementChecks1764400000000,
  ReconciliationItemIndexes1764500000000,
  LedgerExportRecovery1764510000000,
  LedgerStatementNotes1764600000000,
];
