import { GroupCommit, oneByOne, togetherOrAlone } from './group-commit';

/**
 * A write that records its batches and answers each item doubled; with `failOdd` a batch holding
 * an odd item throws (so the batcher writes its items alone, and the odd ones fail).
 */
function recorder(options: { failOdd?: boolean; delayMs?: number } = {}) {
  const batches: number[][] = [];
  let running = 0;
  let maxRunning = 0;
  const write = async (items: readonly number[]): Promise<number[]> => {
    batches.push([...items]);
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 5));
    running -= 1;
    const odd = items.find((i) => i % 2 === 1);
    if (options.failOdd && odd !== undefined) throw new Error(`odd ${odd}`);
    return items.map((i) => i * 2);
  };
  return { write, batches, maxRunning: () => maxRunning };
}

describe('GroupCommit', () => {
  it('an idle batcher writes a lone item by itself, with its own result', async () => {
    const r = recorder();
    const batcher = new GroupCommit(r.write, { maxBatch: 10, maxInFlight: 1 });
    await expect(batcher.submit(21)).resolves.toBe(42);
    expect(r.batches).toEqual([[21]]);
    expect(batcher.pending).toBe(0);
  });

  it('items submitted together go in one batch; those arriving meanwhile in the next', async () => {
    const r = recorder();
    const sizes: number[] = [];
    const batcher = new GroupCommit(r.write, {
      maxBatch: 10,
      maxInFlight: 1,
      onBatch: (size) => sizes.push(size),
    });
    const first = [1, 2, 3].map((i) => batcher.submit(i));
    await new Promise((resolve) => setImmediate(resolve));
    const second = [4, 5].map((i) => batcher.submit(i));
    await expect(Promise.all([...first, ...second])).resolves.toEqual([2, 4, 6, 8, 10]);
    expect(r.batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(sizes).toEqual([3, 2]);
  });

  it('never exceeds maxBatch items per batch nor maxInFlight batches at once', async () => {
    const r = recorder();
    const batcher = new GroupCommit(r.write, { maxBatch: 4, maxInFlight: 2 });
    const items = Array.from({ length: 23 }, (_, i) => i);
    await expect(Promise.all(items.map((i) => batcher.submit(i)))).resolves.toEqual(
      items.map((i) => i * 2),
    );
    expect(Math.max(...r.batches.map((b) => b.length))).toBe(4);
    expect(r.batches.flat().sort((a, b) => a - b)).toEqual(items);
    expect(r.maxRunning()).toBe(2);
  });

  it("an item's failure is its own; a write that throws fails its whole batch only", async () => {
    const r = recorder({ failOdd: true });
    const batcher = new GroupCommit(r.write, { maxBatch: 10, maxInFlight: 1 });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => batcher.submit(i)));
    expect(results.map((s) => s.status)).toEqual([
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);

    let calls = 0;
    const flaky = new GroupCommit<number, number>(
      async (items) => {
        calls += 1;
        if (calls === 1) throw new Error('connection lost');
        return [...items];
      },
      { maxBatch: 10, maxInFlight: 1, retryAlone: () => false },
    );
    const failed = [1, 2].map((i) => flaky.submit(i));
    await new Promise((resolve) => setImmediate(resolve));
    const later = flaky.submit(3);
    await expect(Promise.allSettled(failed)).resolves.toEqual([
      { status: 'rejected', reason: new Error('connection lost') },
      { status: 'rejected', reason: new Error('connection lost') },
    ]);
    await expect(later).resolves.toBe(3);
  });

  it('a write answering too few results fails the items left without one', async () => {
    const batcher = new GroupCommit<number, number>(async () => [1], {
      maxBatch: 10,
      maxInFlight: 1,
    });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(results[1].status).toBe('rejected');
  });

  it('refuses limits that are not positive integers', () => {
    const write = async () => [];
    expect(() => new GroupCommit(write, { maxBatch: 0, maxInFlight: 1 })).toThrow(/maxBatch/);
    expect(() => new GroupCommit(write, { maxBatch: 1, maxInFlight: 1.5 })).toThrow(/maxInFlight/);
  });

  it('oneByOne answers each item its own result', async () => {
    const results = await oneByOne([1, 2, 3], async (i) => {
      if (i === 2) throw new Error('two');
      return i;
    });
    expect(results).toEqual([
      { ok: true, value: 1 },
      { ok: false, error: new Error('two') },
      { ok: true, value: 3 },
    ]);
  });

  it('togetherOrAlone: one write for the batch; after a failure of the whole, each item alone', async () => {
    const calls: number[][] = [];
    const write = async (batch: readonly number[]) => {
      calls.push([...batch]);
      if (batch.includes(3)) throw new Error('three refused');
      return batch.map((i) => i * 10);
    };
    await expect(togetherOrAlone([1, 2], write)).resolves.toEqual([
      { ok: true, value: 10 },
      { ok: true, value: 20 },
    ]);
    expect(calls).toEqual([[1, 2]]);
    calls.length = 0;
    await expect(togetherOrAlone([1, 3, 4], write)).resolves.toEqual([
      { ok: true, value: 10 },
      { ok: false, error: new Error('three refused') },
      { ok: true, value: 40 },
    ]);
    expect(calls).toEqual([[1, 3, 4], [1], [3], [4]]);
    // an error the caller does not retry alone fails the batch as a whole
    await expect(togetherOrAlone([1, 3], write, () => false)).rejects.toThrow('three refused');
  });
});
