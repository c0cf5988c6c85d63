// Latches for tests: wait for a count of events, or for the next item of an async iterable, with a
// limit so a missing event fails the test instead of hanging it.
import type { BusLogger } from "@tonearm/bus";

const DEFAULT_LIMIT_MS = 5_000;

/** Collects items and resolves `until(n)` once n have arrived. */
export class Inbox<T> {
  readonly items: T[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];

  push = (item: T): void => {
    this.items.push(item);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.items.length < w.count) return true;
      w.resolve();
      return false;
    });
  };

  async until(count: number, limitMs = DEFAULT_LIMIT_MS): Promise<T[]> {
    if (this.items.length < count) {
      await withLimit(
        new Promise<void>((resolve) => this.#waiters.push({ count, resolve })),
        limitMs,
        () => `expected ${count} items, got ${this.items.length}`,
      );
    }
    return this.items;
  }
}

/**
 * Reads an async iterable one item at a time. A read that runs out of time stays pending and is
 * picked up by the next read, so no item is lost to an abandoned `next()`.
 */
export class Reader<T> {
  readonly #iterator: AsyncIterator<T>;
  #pending: Promise<IteratorResult<T>> | undefined;

  constructor(iterable: AsyncIterable<T>) {
    this.#iterator = iterable[Symbol.asyncIterator]();
  }

  /** The next item; fails after `limitMs`. */
  async next(limitMs = DEFAULT_LIMIT_MS): Promise<T> {
    const item = await this.within(limitMs);
    if (item === undefined) throw new Error(`no item within ${limitMs} ms`);
    return item;
  }

  /** The next item, or undefined if none arrives within `ms` (or the iteration ended). */
  async within(ms: number): Promise<T | undefined> {
    const pending = (this.#pending ??= this.#iterator.next());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
    const result = await Promise.race([pending, timedOut]);
    clearTimeout(timer);
    if (result === "timeout") return undefined;
    this.#pending = undefined;
    return result.done ? undefined : result.value;
  }

  /** Resolves true once the iteration has ended. */
  async ended(limitMs = DEFAULT_LIMIT_MS): Promise<boolean> {
    const pending = (this.#pending ??= this.#iterator.next());
    const result = await withLimit(pending, limitMs, () => "iteration did not end");
    return result.done === true;
  }
}

export async function withLimit<T>(promise: Promise<T>, limitMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what()} within ${limitMs} ms`)), limitMs)),
  );
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true; for effects with no event to wait on (TTL expiry). */
export async function eventually(check: () => Promise<boolean>, limitMs = DEFAULT_LIMIT_MS): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface LogLine {
  level: "info" | "warn" | "error";
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps what it is given, so tests can assert on it and runs stay quiet. */
export function recordingLogger(): BusLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (fields, message) => lines.push({ level: "info", fields, message }),
    warn: (fields, message) => lines.push({ level: "warn", fields, message }),
    error: (fields, message) => lines.push({ level: "error", fields, message }),
  };
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);
