// Undo actions registered while a run builds its stacks, run newest first, whatever happened.

interface Task {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

export class Cleanup {
  private readonly tasks: Task[] = [];
  private running?: Promise<void>;

  add(name: string, run: () => Promise<unknown>): void {
    this.tasks.push({ name, run });
  }

  /**
   * Runs every task registered so far once (newest first); a failing task is reported and the
   * rest still run. Callable again after it settles, so each benchmark can tear down its own
   * stack before the next one measures.
   */
  runAll(): Promise<void> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    for (let task = this.tasks.pop(); task; task = this.tasks.pop()) {
      try {
        await task.run();
      } catch (error) {
        console.error(`cleanup: ${task.name} failed: ${(error as Error).message}`);
      }
    }
  }
}
