import { ProcessorError } from '../../contracts/src';

/**
 * Rejects with `timeout_unknown_outcome` when the promise has not settled within `ms`: the
 * request may have reached the processor, so the outcome is unknown (DESIGN.md §5.4).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ProcessorError('timeout_unknown_outcome', `${label}: no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
