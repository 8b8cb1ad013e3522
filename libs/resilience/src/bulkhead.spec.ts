import { ProcessorError } from '../../contracts/src';
import { Bulkhead } from './bulkhead';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('Bulkhead', () => {
  it('caps concurrency, queues FIFO up to maxQueue and refuses beyond it', async () => {
    const bulkhead = new Bulkhead(2, 1);
    const calls = [deferred<string>(), deferred<string>(), deferred<string>()];
    const started: number[] = [];
    const runs = calls.map((call, i) =>
      bulkhead.run(() => {
        started.push(i);
        return call.promise;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect({ inFlight: bulkhead.inFlight, queued: bulkhead.queued }).toEqual({
      inFlight: 2,
      queued: 1,
    });

    const fourth = jest.fn(() => Promise.resolve('never'));
    const refused = await bulkhead.run(fourth).catch((e: unknown) => e);
    expect(fourth).not.toHaveBeenCalled();
    expect(refused).toBeInstanceOf(ProcessorError);
    expect(refused).toMatchObject({
      kind: 'unavailable',
      processorCode: 'bulkhead_full',
      message: 'bulkhead full',
      knownNotProcessed: true,
    });

    calls[0].reject(new Error('boom'));
    await expect(runs[0]).rejects.toThrow('boom');
    expect(started).toEqual([0, 1, 2]);
    expect({ inFlight: bulkhead.inFlight, queued: bulkhead.queued }).toEqual({
      inFlight: 2,
      queued: 0,
    });

    calls[1].resolve('one');
    calls[2].resolve('two');
    await expect(Promise.all(runs.slice(1))).resolves.toEqual(['one', 'two']);
    expect(bulkhead.inFlight).toBe(0);
  });

  it('releases the slot when fn throws synchronously', async () => {
    const bulkhead = new Bulkhead(1, 0);
    await expect(
      bulkhead.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(bulkhead.inFlight).toBe(0);
    await expect(bulkhead.run(() => Promise.resolve(1))).resolves.toBe(1);
  });

  it('validates its limits', () => {
    expect(() => new Bulkhead(0, 1)).toThrow(RangeError);
    expect(() => new Bulkhead(1, -1)).toThrow(RangeError);
  });
});
