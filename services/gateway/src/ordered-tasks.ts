/**
 * Runs tasks strictly one after another per key (a connection), while different keys proceed
 * independently: a slow plugin holds up only its own connection's events.
 */
export class OrderedTasks {
  readonly #tails = new Map<string, Promise<void>>();

  /** @param onFailure receives what a task throws; the next task of the key runs regardless. */
  constructor(private readonly onFailure: (err: unknown, key: string) => void) {}

  /** Runs `task` after every task enqueued before it under `key` has settled. */
  enqueue(key: string, task: () => Promise<void>): void {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const tail = previous.then(task).catch((err: unknown) => {
      try {
        this.onFailure(err, key);
      } catch {
        // Reporting must never break the chain of the key.
      }
    });
    this.#tails.set(key, tail);
    void tail.finally(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
  }

  /** Resolves once every task enqueued so far, and any enqueued while waiting, has settled. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}
