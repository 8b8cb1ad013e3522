import { ProcessorError } from '../../contracts/src';
import { withTimeout } from './with-timeout';

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects with timeout_unknown_outcome when no answer comes in time', async () => {
    const outcome = withTimeout(new Promise(() => undefined), 3_000, 'stripe authorize').catch(
      (e: unknown) => e,
    );
    await jest.advanceTimersByTimeAsync(3_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(ProcessorError);
    expect(error).toMatchObject({
      kind: 'timeout_unknown_outcome',
      message: 'stripe authorize: no answer within 3000 ms',
      knownNotProcessed: false,
    });
  });

  it('passes results and errors through and clears its timer', async () => {
    await expect(withTimeout(Promise.resolve('ok'), 1_000, 'x')).resolves.toBe('ok');
    const declined = new ProcessorError('declined', 'no');
    await expect(withTimeout(Promise.reject(declined), 1_000, 'x')).rejects.toBe(declined);
    expect(jest.getTimerCount()).toBe(0);
  });
});
