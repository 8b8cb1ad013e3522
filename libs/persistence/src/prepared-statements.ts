import { createHash } from 'node:crypto';
import { Client } from 'pg';

/**
 * Named prepared statements for the hot path. Postgres parses and plans an unnamed statement on
 * every execution; on the end-to-end path that was about 45 % of the time Postgres spent in our
 * statements (parse ~0.9 ms and bind/plan ~0.9 ms of ~4.2 ms per payment, measured from the
 * server log, 2026-11-22). A statement registered here is prepared once per connection and then
 * only bound and executed.
 *
 * Opt-in on purpose: only fixed texts of single statements whose plans do not depend on their
 * parameters (key lookups, inserts, updates by key), so a generic plan can never be a bad plan.
 * Anything unregistered runs exactly as before.
 *
 * Statements that read a table by an array of keys (`= ANY($1)`, a join to `unnest`) are NOT
 * registered: they are planned at each execution. Postgres builds a connection's generic plan at
 * the sixth execution, from the table's size at that moment, and keeps it until the table is
 * analyzed again. A table that starts empty and fills fast (a new deployment, each benchmark
 * database; and on a server without autovacuum, never re-analyzed) then keeps a plan that scans
 * it all: measured 2026-11-22 at 1,000 webhooks/s, locking a batch's events took 6.2 ms and 616
 * buffers per batch instead of 0.23 ms and 52, and the worker fell seconds behind. Such a
 * statement serves a whole batch, so planning it each time costs little per item.
 */
const NAMES = new Map<string, string>();

/** Registers a statement text for preparing and returns the same text (use it as a constant). */
export function preparedSql(text: string): string {
  if (!NAMES.has(text)) {
    const digest = createHash('sha1').update(text).digest('hex').slice(0, 16);
    NAMES.set(text, `pgw_${digest}`);
  }
  return text;
}

/** Every registered text (tests check the policy above against all of them). */
export function registeredStatements(): string[] {
  return [...NAMES.keys()];
}

/** The prepared name of a registered text, if any. */
export function preparedName(text: string): string | undefined {
  return NAMES.get(text);
}

/**
 * The pg client of our pools: a parameterised query whose text is registered is sent as a
 * named statement (`{ name, text, values }`), which pg prepares on first use per connection.
 */
export class PreparingClient extends Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const [text, values] = args;
    if (typeof text === 'string' && Array.isArray(values)) {
      const name = NAMES.get(text);
      if (name) {
        return (super.query as (...a: unknown[]) => unknown)(
          { name, text, values },
          ...args.slice(2),
        );
      }
    }
    return (super.query as (...a: unknown[]) => unknown)(...args);
  }
}
