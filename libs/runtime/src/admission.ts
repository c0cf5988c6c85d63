/**
 * Per-plugin admission: at most `limit` calls of one plugin run at once; the rest wait in FIFO order
 * up to a timeout (Navidrome: 10 concurrent instances, 5 s wait, then
 * `timeout waiting for available instance after 5s`).
 */
import { CallError, CallErrorCode } from "@tonearm/abi";

interface Waiter {
  readonly grant: () => void;
}

export class Admission {
  #active = 0;
  readonly #waiters: Waiter[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves with a release function once a slot is free; rejects with `unavailable` on timeout or abort. */
  acquire(timeoutMs: number, signal?: AbortSignal): Promise<() => void> {
    if (this.#active < this.#limit && this.#waiters.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        remove();
        reject(new CallError(CallErrorCode.Unavailable, `timeout waiting for available instance after ${formatSeconds(timeoutMs)}`));
      }, timeoutMs);
      const onAbort = (): void => {
        remove();
        reject(signal?.reason instanceof Error ? signal.reason : new CallError(CallErrorCode.Unavailable, "call aborted"));
      };
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          this.#active++;
          resolve(this.#releaser());
        },
      };
      const remove = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      this.#waiters.shift()?.grant();
    };
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
