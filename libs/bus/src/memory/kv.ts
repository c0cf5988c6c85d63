import { AsyncQueue } from "../async-queue.js";
import { BusError } from "../errors.js";
import type { KeyValue, KvChange, KvEntry, KvOptions, KvWatch } from "../types.js";
import { checkKvFilter, checkKvKey } from "../validate.js";
import { subjectMatches } from "./match.js";

interface Stored {
  readonly value: Uint8Array;
  readonly revision: number;
  readonly operation: "put" | "delete";
  readonly writtenAtMs: number;
}

interface Watcher {
  readonly filter: string;
  readonly queue: AsyncQueue<KvChange>;
}

/**
 * A KV bucket in process memory with NATS KV semantics: bucket-wide revisions, create/update as
 * compare-and-set on the key's last revision, delete markers, and entries (markers included)
 * expiring `ttlMs` after their last write. Only the latest value per key is kept, since nothing
 * here reads older ones.
 */
export class MemoryKeyValue implements KeyValue {
  readonly #entries = new Map<string, Stored>();
  readonly #watchers = new Set<Watcher>();
  readonly #ttlMs: number | undefined;
  #revision = 0;

  constructor(
    readonly bucket: string,
    options: KvOptions,
    private readonly ensureOpen: () => void,
  ) {
    this.#ttlMs = options.ttlMs;
  }

  get(key: string): Promise<KvEntry | undefined> {
    return this.#run(() => {
      checkKvKey(key);
      const stored = this.#live(key);
      if (!stored || stored.operation === "delete") return undefined;
      return { key, value: stored.value.slice(), revision: stored.revision };
    });
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.#run(() => {
      checkKvKey(key);
      return this.#write(key, value, "put");
    });
  }

  create(key: string, value: Uint8Array): Promise<number> {
    return this.#run(() => {
      checkKvKey(key);
      if (this.#live(key)?.operation === "put") {
        throw new BusError("exists", `key "${key}" already exists in bucket ${this.bucket}`, { target: key });
      }
      return this.#write(key, value, "put");
    });
  }

  update(key: string, value: Uint8Array, revision: number): Promise<number> {
    return this.#run(() => {
      checkKvKey(key);
      const latest = this.#live(key)?.revision;
      if (latest !== revision) {
        throw new BusError(
          "wrong_revision",
          `key "${key}" in bucket ${this.bucket} is at revision ${latest ?? "none"}, not ${revision}`,
          { target: key },
        );
      }
      return this.#write(key, value, "put");
    });
  }

  delete(key: string): Promise<void> {
    return this.#run(() => {
      checkKvKey(key);
      this.#write(key, new Uint8Array(0), "delete");
    });
  }

  keys(filter = ">"): AsyncIterable<string> {
    // Read when iteration starts, like the NATS adapter, so errors surface there too.
    return {
      [Symbol.asyncIterator]: () => {
        let keys: string[] | undefined;
        return {
          next: () =>
            this.#run(() => {
              if (!keys) {
                checkKvFilter(filter);
                keys = this.#current(filter).map(([key]) => key);
              }
              const key = keys.shift();
              return key === undefined ? { done: true, value: undefined } : { done: false, value: key };
            }),
        };
      },
    };
  }

  watch(filter = ">"): Promise<KvWatch> {
    return this.#run(() => {
      checkKvFilter(filter);
      const watcher: Watcher = { filter, queue: new AsyncQueue<KvChange>(() => this.#watchers.delete(watcher)) };
      for (const [key, stored] of this.#current(filter)) watcher.queue.push(change(key, stored));
      this.#watchers.add(watcher);
      const queue = watcher.queue;
      return { [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](), stop: () => queue.end() };
    });
  }

  /** Ends every watch: the bus closed. */
  close(): void {
    for (const watcher of [...this.#watchers]) watcher.queue.end();
  }

  #run<T>(operation: () => T): Promise<T> {
    // The executor turns a throw into a rejection while still running the operation synchronously.
    return new Promise((resolve) => {
      this.ensureOpen();
      resolve(operation());
    });
  }

  #write(key: string, value: Uint8Array, operation: Stored["operation"]): number {
    const stored: Stored = { value: value.slice(), revision: ++this.#revision, operation, writtenAtMs: Date.now() };
    this.#entries.set(key, stored);
    for (const watcher of this.#watchers) {
      if (subjectMatches(watcher.filter, key)) watcher.queue.push(change(key, stored));
    }
    return stored.revision;
  }

  /** The key's latest entry unless its TTL has run out (then it is forgotten, as NATS does). */
  #live(key: string): Stored | undefined {
    const stored = this.#entries.get(key);
    if (stored && this.#expired(stored)) {
      this.#entries.delete(key);
      return undefined;
    }
    return stored;
  }

  #expired(stored: Stored): boolean {
    return this.#ttlMs !== undefined && Date.now() - stored.writtenAtMs >= this.#ttlMs;
  }

  /** Live values (no delete markers) matching `filter`, oldest revision first. */
  #current(filter: string): [string, Stored][] {
    const out: [string, Stored][] = [];
    for (const key of [...this.#entries.keys()]) {
      const stored = this.#live(key);
      if (stored?.operation === "put" && subjectMatches(filter, key)) out.push([key, stored]);
    }
    return out.sort((a, b) => a[1].revision - b[1].revision);
  }
}

function change(key: string, stored: Stored): KvChange {
  return { key, value: stored.value.slice(), revision: stored.revision, operation: stored.operation };
}
