import { LedgerEvent } from '../posting-rules';
import { RealtimeReconciler } from './realtime-reconciler';
import { ReconciliationEngine, ReconcileSourcesRequest } from './reconciliation-engine';

const sale = (paymentId: string) =>
  ({
    v: 1,
    eventId: `evt_${paymentId}`,
    type: 'succeeded',
    occurredAt: '2026-11-22T00:00:00.000Z',
    payment: { id: paymentId, processor: 'simulator', currency: 'USD', amount: 100 },
    amount: 100,
  }) as unknown as LedgerEvent;

const quietLogger = { error: jest.fn(), warn: jest.fn() } as never;

describe('RealtimeReconciler', () => {
  it('runs one pass at a time and merges what batches touch meanwhile into one next pass', async () => {
    const calls: ReconcileSourcesRequest[] = [];
    let release!: () => void;
    const firstPassBlocked = new Promise<void>((resolve) => (release = resolve));
    const engine = {
      reconcileSources: async (request: ReconcileSourcesRequest) => {
        calls.push(request);
        if (calls.length === 1) await firstPassBlocked;
        return { counts: {}, opened: 0, updated: 0, resolved: 0 };
      },
    } as unknown as ReconciliationEngine;
    const reconciler = new RealtimeReconciler(engine, quietLogger);

    reconciler.afterBatch([sale('pay_1')]);
    reconciler.afterBatch([sale('pay_2'), sale('pay_3')]);
    reconciler.afterBatch([sale('pay_3'), sale('pay_4')]);
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    release();
    await reconciler.settled();

    expect(calls.map((c) => [...(c.paymentIds ?? [])].sort())).toEqual([
      ['pay_1'],
      ['pay_2', 'pay_3', 'pay_4'],
    ]);
  });

  it('keeps going after a failed pass (logged, never thrown)', async () => {
    let n = 0;
    const engine = {
      reconcileSources: async () => {
        n += 1;
        if (n === 1) throw new Error('database away');
        return { counts: {}, opened: 0, updated: 0, resolved: 0 };
      },
    } as unknown as ReconciliationEngine;
    const logger = { error: jest.fn() };
    const reconciler = new RealtimeReconciler(engine, logger as never);
    reconciler.afterBatch([sale('pay_1')]);
    await reconciler.settled();
    reconciler.afterBatch([sale('pay_2')]);
    await reconciler.settled();
    expect(n).toBe(2);
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('retries the touched payments in the next pass after a lock timeout, not after other errors', async () => {
    const calls: string[][] = [];
    const failures = [
      Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
    ];
    const engine = {
      reconcileSources: async (request: ReconcileSourcesRequest) => {
        calls.push([...(request.paymentIds ?? [])].sort());
        const failure = failures.shift();
        if (failure) throw failure;
        return { counts: {}, opened: 0, updated: 0, resolved: 0 };
      },
    } as unknown as ReconciliationEngine;
    const logger = { error: jest.fn(), warn: jest.fn() };
    const reconciler = new RealtimeReconciler(engine, logger as never);
    reconciler.afterBatch([sale('pay_1')]);
    await reconciler.settled();
    // lock timeout: pay_1 again (a warning); then a non-lock error: dropped (an error; the
    // batch run catches up)
    expect(calls).toEqual([['pay_1'], ['pay_1']]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledTimes(1);
    reconciler.afterBatch([sale('pay_2')]);
    await reconciler.settled();
    expect(calls).toEqual([['pay_1'], ['pay_1'], ['pay_2']]);
  });

  it('runs at most one pass per interval: a burst of batches becomes one pass after the first', async () => {
    jest.useFakeTimers();
    try {
      const calls: string[][] = [];
      const engine = {
        reconcileSources: async (request: ReconcileSourcesRequest) => {
          calls.push([...(request.paymentIds ?? [])].sort());
          return { counts: {}, opened: 0, updated: 0, resolved: 0 };
        },
      } as unknown as ReconciliationEngine;
      const reconciler = new RealtimeReconciler(engine, quietLogger, undefined, undefined, 1000);
      reconciler.afterBatch([sale('pay_1')]);
      await jest.advanceTimersByTimeAsync(0);
      expect(calls).toEqual([['pay_1']]);
      for (const id of ['pay_2', 'pay_3', 'pay_4']) {
        reconciler.afterBatch([sale(id)]);
        await jest.advanceTimersByTimeAsync(300);
      }
      expect(calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(100);
      expect(calls).toEqual([['pay_1'], ['pay_2', 'pay_3', 'pay_4']]);
      // After a quiet interval, the next batch is reconciled at once.
      await jest.advanceTimersByTimeAsync(2000);
      reconciler.afterBatch([sale('pay_5')]);
      await jest.advanceTimersByTimeAsync(0);
      expect(calls).toHaveLength(3);
      await reconciler.settled();
    } finally {
      jest.useRealTimers();
    }
  });
});
