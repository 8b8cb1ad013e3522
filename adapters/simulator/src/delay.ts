/** Resolves after `ms`; uses the global timer so tests can drive it with fake timers. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
