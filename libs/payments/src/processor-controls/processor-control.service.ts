import { DataSource, EntityManager } from 'typeorm';
import { PaymentsError, newId } from '../../../domain/src';
import { ApiClient } from '../api-keys/scopes';
import { ProcessorRouter } from '../routing/processor-router';

export interface ProcessorControl {
  readonly processor: string;
  readonly paused: boolean;
  readonly reason: string | null;
  readonly changedBy: string;
  readonly changedAt: Date;
}

/** Records who did what, before and after, and why, in the same transaction as the change. */
export async function audit(
  tx: Pick<EntityManager, 'query'>,
  entry: {
    actor: string;
    action: string;
    subject: string;
    before: unknown;
    after: unknown;
    reason: string | null;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (id, actor, action, subject, before, after, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      newId('evt'),
      entry.actor,
      entry.action,
      entry.subject,
      JSON.stringify(entry.before ?? null),
      JSON.stringify(entry.after ?? null),
      entry.reason,
    ],
  );
}

/**
 * Operator pause/resume of a processor. The state lives in the database, so every worker
 * picks it up (they poll it); each change is audited.
 */
export class ProcessorControlService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly router: ProcessorRouter,
  ) {}

  async setPaused(
    client: ApiClient,
    processor: string,
    paused: boolean,
    reason: string | null,
  ): Promise<ProcessorControl> {
    if (!this.router.names.includes(processor)) {
      throw PaymentsError.badInput(
        'processor',
        `processor must be one of: ${this.router.names.join(', ')}`,
      );
    }
    if (paused && (!reason || reason.trim().length === 0 || reason.length > 500)) {
      throw PaymentsError.badInput(
        'reason',
        'a reason of 1-500 characters is required to pause a processor',
      );
    }
    return this.dataSource.transaction(async (tx) => {
      const [before] = await tx.query(
        `SELECT paused, reason FROM processor_controls WHERE processor = $1 FOR UPDATE`,
        [processor],
      );
      const [row] = await tx.query(
        `INSERT INTO processor_controls (processor, paused, reason, changed_by, changed_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (processor) DO UPDATE SET paused = $2, reason = $3, changed_by = $4, changed_at = now()
         RETURNING processor, paused, reason, changed_by, changed_at`,
        [processor, paused, reason, client.name],
      );
      await audit(tx, {
        actor: client.name,
        action: paused ? 'pauseProcessor' : 'resumeProcessor',
        subject: `processor:${processor}`,
        before: before ?? { paused: false },
        after: { paused, reason },
        reason,
      });
      return toControl(row);
    });
  }

  async list(): Promise<ProcessorControl[]> {
    const rows = await this.dataSource.query(
      `SELECT processor, paused, reason, changed_by, changed_at FROM processor_controls ORDER BY processor`,
    );
    return rows.map(toControl);
  }
}

function toControl(row: Record<string, unknown>): ProcessorControl {
  return {
    processor: row.processor as string,
    paused: row.paused as boolean,
    reason: (row.reason as string | null) ?? null,
    changedBy: row.changed_by as string,
    changedAt: new Date(row.changed_at as string),
  };
}
