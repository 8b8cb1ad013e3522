// Postgres statistics of one benchmark database: transaction and row counters
// (pg_stat_database), session states (pg_stat_activity), table scans (pg_stat_user_tables).
import { BenchDatabase } from './stack';

const SESSION_SAMPLE_MS = 100;

/**
 * Transactions and row writes of one database over a phase, from pg_stat_database. Approximate:
 * a busy backend reports about once a second, and the benchmark's own queries count too.
 */
export interface DbActivity {
  readonly commits: number;
  readonly rollbacks: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
}

export async function dbCounters(db: BenchDatabase): Promise<DbActivity> {
  const [row]: Record<string, string>[] = await db.dataSource.query(
    `SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  return {
    commits: Number(row.xact_commit),
    rollbacks: Number(row.xact_rollback),
    rowsInserted: Number(row.tup_inserted),
    rowsUpdated: Number(row.tup_updated),
    rowsDeleted: Number(row.tup_deleted),
  };
}

export function activityBetween(end: DbActivity, start: DbActivity): DbActivity {
  return {
    commits: end.commits - start.commits,
    rollbacks: end.rollbacks - start.rollbacks,
    rowsInserted: end.rowsInserted - start.rowsInserted,
    rowsUpdated: end.rowsUpdated - start.rowsUpdated,
    rowsDeleted: end.rowsDeleted - start.rowsDeleted,
  };
}

export function sumActivity(a: DbActivity, b: DbActivity): DbActivity {
  return {
    commits: a.commits + b.commits,
    rollbacks: a.rollbacks + b.rollbacks,
    rowsInserted: a.rowsInserted + b.rowsInserted,
    rowsUpdated: a.rowsUpdated + b.rowsUpdated,
    rowsDeleted: a.rowsDeleted + b.rowsDeleted,
  };
}

/** Database work per payment: commits and rows written (inserted + updated + deleted). */
export interface PerPayment {
  readonly payments: number;
  readonly commits: number;
  readonly rowsWritten: number;
}

export function perPayment(activity: DbActivity, payments: number): PerPayment {
  const per = (value: number) => (payments > 0 ? Math.round((value / payments) * 10) / 10 : 0);
  const written = activity.rowsInserted + activity.rowsUpdated + activity.rowsDeleted;
  return { payments, commits: per(activity.commits), rowsWritten: per(written) };
}

/**
 * What the database sessions of the benchmark's database were doing, sampled from
 * pg_stat_activity every 100 ms: the average number of sessions per state. Many `idle`
 * sessions and few active ones mean the applications, not Postgres, set the pace; `IO:WALSync`
 * means commits wait for the disk; `Lock:*` means row contention.
 */
export type SessionStates = Record<string, number>;

export class SessionSampler {
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private timer?: NodeJS.Timeout;
  private pending?: Promise<void>;

  constructor(private readonly db: BenchDatabase) {}

  start(): void {
    this.timer = setInterval(() => {
      this.pending ??= this.sample().finally(() => (this.pending = undefined));
    }, SESSION_SAMPLE_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
  }

  /** Average number of sessions per state over the samples taken. */
  states(): SessionStates {
    const states: SessionStates = {};
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1]);
    for (const [state, n] of sorted)
      states[state] = Math.round((n / Math.max(1, this.samples)) * 10) / 10;
    return states;
  }

  private async sample(): Promise<void> {
    const rows: { state: string | null; type: string | null; event: string | null }[] =
      await this.db.dataSource
        .query(
          `SELECT state, wait_event_type AS type, wait_event AS event FROM pg_stat_activity
           WHERE datname = current_database() AND application_name <> 'bench'
             AND backend_type = 'client backend'`,
        )
        .catch(() => []);
    this.samples += 1;
    for (const row of rows) {
      const key = sessionState(row.state, row.type, row.event);
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }
}

function sessionState(state: string | null, type: string | null, event: string | null): string {
  if (state !== 'active') return state ?? 'unknown';
  return type ? `active, waiting ${type}:${event}` : 'active (running)';
}

/** Server processes of the applications connected to the benchmark's database. */
export async function backendPids(db: BenchDatabase): Promise<number[]> {
  const rows: { pid: number }[] = await db.dataSource.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'bench'`,
  );
  return rows.map((r) => r.pid);
}

/** Sequential and index scans per table since the database was created (pg_stat_user_tables). */
export type TableScans = Record<
  string,
  { seqScans: number; rowsReadBySeqScans: number; indexScans: number }
>;

export async function tableScans(db: BenchDatabase): Promise<TableScans> {
  const rows: {
    relname: string;
    seq_scan: string;
    seq_tup_read: string;
    idx_scan: string | null;
  }[] = await db.dataSource.query(
    `SELECT relname, seq_scan, seq_tup_read, idx_scan FROM pg_stat_user_tables ORDER BY seq_tup_read DESC`,
  );
  return Object.fromEntries(
    rows.map((r) => [
      r.relname,
      {
        seqScans: Number(r.seq_scan),
        rowsReadBySeqScans: Number(r.seq_tup_read),
        indexScans: Number(r.idx_scan ?? 0),
      },
    ]),
  );
}
