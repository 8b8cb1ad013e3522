/**
 * Group commit for one kind of write: callers submit one item each and get their own result;
 * the items that are waiting when a database round trip can start go in ONE statement or
 * transaction. Nothing waits on a timer: an idle batcher starts at the next turn of the event
 * loop with whatever was submitted in this one, so under light load a batch holds one item and
 * costs what the single write cost; under load the items that arrive while `maxInFlight`
 * batches run go together, and the per-write costs (round trips, BEGIN/COMMIT, the WAL flush
 * of each commit) are paid once per batch (docs/decisions.md #20).
 */
export type BatchResult<O> =
  { readonly ok: true; readonly value: O } | { readonly ok: false; readonly error: unknown };

export interface GroupCommitOptions {
  /** Items per batch at most. */
  readonly maxBatch: number;
  /** Batches running at once at most (connections this batcher may hold). */
  readonly maxInFlight: number;
  /** Told the size of each batch as it starts (a metric). */
  readonly onBatch?: (size: number) => void;
  /**
   * Whether items of a batch that failed as a whole are written again one by one (default:
   * always), so one item's bad value or a deadlock between two batches fails only what it must.
   */
  readonly retryAlone?: (error: unknown) => boolean;
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  private readonly waiting: Waiting<I, O>[] = [];
  private running = 0;
  private scheduled = false;

  /**
   * `write` gets the items of a batch and answers one result per item, in order. If it throws
   * for a batch of several, each item is written alone (see `retryAlone`); an item whose own
   * write throws fails with that error.
   */
  constructor(
    private readonly write: (items: readonly I[]) => Promise<readonly O[]>,
    private readonly options: GroupCommitOptions,
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
      throw new RangeError('maxBatch must be a positive integer');
    }
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new RangeError('maxInFlight must be a positive integer');
    }
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items submitted and not yet answered (waiting or in a running batch). */
  get pending(): number {
    return this.waiting.length + this.running;
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches();
    });
  }

  private startBatches(): void {
    while (this.running < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.running += 1;
      this.options.onBatch?.(batch.length);
      void this.run(batch);
    }
  }

  private async run(batch: readonly Waiting<I, O>[]): Promise<void> {
    try {
      const results = await togetherOrAlone(
        batch.map((w) => w.item),
        this.write,
        this.options.retryAlone,
      );
      batch.forEach((w, i) => {
        const result = results[i];
        if (!result) w.reject(new Error('group commit: the batch answered no result for an item'));
        else if (result.ok) w.resolve(result.value);
        else w.reject(result.error);
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.running -= 1;
      if (this.waiting.length > 0) this.startBatches();
    }
  }
}

/** Runs `write` for each item alone, concurrently: the fallback when a batch failed as a whole. */
export async function oneByOne<I, O>(
  items: readonly I[],
  write: (item: I) => Promise<O>,
): Promise<BatchResult<O>[]> {
  return Promise.all(
    items.map((item) =>
      write(item).then(
        (value): BatchResult<O> => ({ ok: true, value }),
        (error: unknown): BatchResult<O> => ({ ok: false, error }),
      ),
    ),
  );
}

/**
 * Writes a batch with `write` (one result per item, in order). If that fails as a whole and the
 * batch held more than one item, each item is written alone (when `alone(error)` allows), so
 * one item's bad value or a deadlock between two batches fails only what it must.
 */
export async function togetherOrAlone<I, O>(
  items: readonly I[],
  write: (batch: readonly I[]) => Promise<readonly O[]>,
  alone: (error: unknown) => boolean = () => true,
): Promise<BatchResult<O>[]> {
  if (items.length > 1) {
    try {
      return (await write(items)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (!alone(error)) throw error;
    }
  }
  return oneByOne(items, async (item) => (await write([item]))[0]);
}
