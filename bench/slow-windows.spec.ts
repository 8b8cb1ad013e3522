import { formatSlowWindows, slowestWindows } from './slow-windows';

describe('slowestWindows', () => {
  it('finds the half-second where the answers bunched up, worst first', () => {
    const dueS: number[] = [];
    const latencies: number[] = [];
    for (let i = 0; i < 2000; i += 1) {
      const due = i / 1000; // 1,000 requests per second for 2 s
      dueS.push(due);
      // a 100 ms pause hits the requests due in [1.0, 1.1): they wait it out (110 → 11 ms)
      latencies.push(i >= 1000 && i < 1100 ? 110 - (i - 1000) : 5);
    }
    const [worst, next] = slowestWindows(dueS, latencies, 2);
    // 400 answers of 5 ms and 11…110 ms: the 495th of 500 is 105 ms
    expect(worst).toEqual({ atS: 1, requests: 500, p50Ms: 5, p99Ms: 105 });
    expect(next.p99Ms).toBe(5);
    expect(formatSlowWindows([worst])).toBe('1.0 s p99 105 ms (p50 5, 500 req.)');
  });

  it('skips windows with too few requests to have a p99, and refuses misaligned input', () => {
    expect(slowestWindows([0.1, 0.2], [500, 600])).toEqual([]);
    expect(() => slowestWindows([0.1], [])).toThrow('one due time per latency');
  });
});
