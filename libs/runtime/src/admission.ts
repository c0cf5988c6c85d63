/**
 * Per-plugin admission, the first bulkhead: at most `limit` calls of one plugin run at once; the
 * rest wait in FIFO order up to a timeout (Navidrome: 10 concurrent instances, 5 s wait, then
 * `timeout waiting for available instance after 5s`). At most `maxQueued` calls wait: beyond that
 * a call is refused with `unavailable` at once, so a flood of calls to a slow or stuck plugin
 * costs the process nothing but the refusals.
 */
import { CallError, CallErrorCode } from "@tonearm/abi";

interface Waiter {
  readonly grant: () => void;
}

export interface AdmissionLimits {
  /** Calls running at once. */
  readonly limit: number;
  /** Calls waiting for a slot at most; 0 refuses every call that finds no free slot. */
  readonly maxQueued: number;
  /** Who the slots belong to, for error texts: `plugin lastfm`. */
  readonly owner: string;
}

export class Admission {
  #active = 0;
  readonly #waiters: Waiter[] = [];
  readonly #limits: AdmissionLimits;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Resolves with a release function once a slot is free; rejects with `unavailable` at once when
   * the queue is full, or on timeout or abort.
   */
  acquire(timeoutMs: number, signal?: AbortSignal): Promise<() => void> {
    const { limit, maxQueued, owner } = this.#limits;
    if (this.#active < limit && this.#waiters.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiters.length >= maxQueued) {
      return Promise.reject(
        new CallError(CallErrorCode.Unavailable, `${owner} is overloaded: ${this.#active} calls run and ${this.#waiters.length} wait; try again later`),
      );
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
