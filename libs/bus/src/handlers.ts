import type { BusLogger, BusMessage, MessageHandler } from "./types.js";

/**
 * Runs a subscription's handler for each message without awaiting it (calls on one subject run
 * concurrently), logs what it throws, and remembers what is still running so `drain` can wait.
 */
export class HandlerRunner {
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly handler: MessageHandler,
    private readonly logger: BusLogger,
    private readonly subject: string,
  ) {}

  run(message: BusMessage): void {
    let result: void | Promise<void>;
    try {
      result = this.handler(message);
    } catch (err) {
      this.#report(err, message);
      return;
    }
    if (!(result instanceof Promise)) return;
    const running: Promise<void> = result.then(
      () => void this.#running.delete(running),
      (err: unknown) => {
        this.#running.delete(running);
        this.#report(err, message);
      },
    );
    this.#running.add(running);
  }

  /** Resolves when every handler started so far (and any they lead to) has finished. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  #report(err: unknown, message: BusMessage): void {
    this.logger.error({ err, subject: message.subject, subscription: this.subject }, "message handler failed");
  }
}
