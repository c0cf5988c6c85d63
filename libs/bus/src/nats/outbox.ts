import type { BusLogger } from "../types.js";
import { toBusError } from "./convert.js";

/** A send accepted and not yet handed to nats.js (see `Outbox`); `target` names it in logs. */
interface PendingSend {
  readonly target: string;
  readonly send: () => void;
}

/**
 * Replies and acknowledgements wait for the end of the event loop's turn and go out together:
 * nats.js writes to the socket once per microtask checkpoint, and each plugin call or scrobble
 * delivery finishes in a turn of its own, so sending at once costs one write (a system call)
 * each. Whatever would refuse a send is checked before it is accepted; only a connection that
 * closes in between can make one fail, and that is logged.
 */
export class Outbox {
  #pending: PendingSend[] = [];

  constructor(private readonly logger: BusLogger) {}

  add(target: string, send: () => void): void {
    if (this.#pending.length === 0) setImmediate(() => this.flush());
    this.#pending.push({ target, send });
  }

  /** Hands every pending send to nats.js now, in the order accepted. */
  flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const { target, send } of pending) {
      try {
        send();
      } catch (err) {
        this.logger.warn({ err: toBusError(err, target), subject: target }, "message not sent: the connection closed");
      }
    }
  }
}
