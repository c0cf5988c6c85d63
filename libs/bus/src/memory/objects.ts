import { createHash } from "node:crypto";
import { BusError } from "../errors.js";
import type { ObjectInfo, ObjectStore } from "../types.js";

interface Stored {
  readonly data: Uint8Array;
  readonly info: ObjectInfo;
}

/** An object store bucket in process memory. */
export class MemoryObjectStore implements ObjectStore {
  readonly #objects = new Map<string, Stored>();

  constructor(
    readonly bucket: string,
    private readonly ensureOpen: () => void,
  ) {}

  put(name: string, data: Uint8Array): Promise<ObjectInfo> {
    return this.#run(name, () => {
      const info: ObjectInfo = {
        name,
        size: data.byteLength,
        sha256: createHash("sha256").update(data).digest("hex"),
        modifiedMs: Date.now(),
      };
      this.#objects.set(name, { data: data.slice(), info });
      return info;
    });
  }

  get(name: string): Promise<Uint8Array | undefined> {
    return this.#run(name, () => this.#objects.get(name)?.data.slice());
  }

  info(name: string): Promise<ObjectInfo | undefined> {
    return this.#run(name, () => this.#objects.get(name)?.info);
  }

  delete(name: string): Promise<boolean> {
    return this.#run(name, () => this.#objects.delete(name));
  }

  #run<T>(name: string, operation: () => T): Promise<T> {
    return new Promise((resolve) => {
      this.ensureOpen();
      if (name === "") throw new BusError("invalid_argument", "object name must not be empty");
      resolve(operation());
    });
  }
}
