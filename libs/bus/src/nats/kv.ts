import type { KV } from "@nats-io/kv";
import { BusError } from "../errors.js";
import type { KeyValue, KvChange, KvEntry, KvWatch } from "../types.js";
import { checkKvFilter, checkKvKey } from "../validate.js";
import { isWrongLastSequence, mapErrors, toBusError } from "./convert.js";

/** A NATS KV bucket behind the `KeyValue` port. */
export class NatsKeyValue implements KeyValue {
  constructor(
    readonly bucket: string,
    private readonly kv: KV,
  ) {}

  async get(key: string): Promise<KvEntry | undefined> {
    checkKvKey(key);
    const entry = await mapErrors(this.kv.get(key), key);
    if (!entry || entry.operation !== "PUT") return undefined;
    return { key, value: entry.value, revision: entry.revision };
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    checkKvKey(key);
    return mapErrors(this.kv.put(key, value), key);
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    checkKvKey(key);
    try {
      return await this.kv.create(key, value);
    } catch (err) {
      if (isWrongLastSequence(err)) {
        throw new BusError("exists", `key "${key}" already exists in bucket ${this.bucket}`, { target: key, cause: err });
      }
      throw toBusError(err, key);
    }
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number> {
    checkKvKey(key);
    // nats.js rejects revision 0 itself; no key can be at revision 0, so this is a lost race too.
    if (!(revision > 0)) throw wrongRevision(key, this.bucket, revision);
    try {
      return await this.kv.update(key, value, revision);
    } catch (err) {
      if (isWrongLastSequence(err)) throw wrongRevision(key, this.bucket, revision, err);
      throw toBusError(err, key);
    }
  }

  async delete(key: string): Promise<void> {
    checkKvKey(key);
    await mapErrors(this.kv.delete(key), key);
  }

  keys(filter = ">"): AsyncIterable<string> {
    const kv = this.kv;
    return {
      async *[Symbol.asyncIterator]() {
        checkKvFilter(filter);
        const keys = await mapErrors(kv.keys(filter), filter);
        yield* keys;
      },
    };
  }

  async watch(filter = ">"): Promise<KvWatch> {
    checkKvFilter(filter);
    const entries = await mapErrors(this.kv.watch({ key: filter }), filter);
    return {
      stop: () => entries.stop(),
      async *[Symbol.asyncIterator](): AsyncIterator<KvChange> {
        try {
          for await (const entry of entries) {
            const operation = entry.operation === "PUT" ? "put" : "delete";
            // The initial values include delete markers of removed keys: not current values.
            if (!entry.isUpdate && operation === "delete") continue;
            yield { key: entry.key, value: entry.value, revision: entry.revision, operation };
          }
        } finally {
          entries.stop();
        }
      },
    };
  }
}

function wrongRevision(key: string, bucket: string, revision: number, cause?: unknown): BusError {
  return new BusError("wrong_revision", `key "${key}" in bucket ${bucket} is not at revision ${revision}`, {
    target: key,
    cause,
  });
}
