import type { ObjectInfo as NatsObjectInfo, ObjectStore as ObjectStoreClient } from "@nats-io/obj";
import { BusError } from "../errors.js";
import type { ObjectInfo, ObjectStore } from "../types.js";
import { mapErrors } from "./convert.js";

const DIGEST_PREFIX = "SHA-256=";

/** A NATS object store bucket behind the `ObjectStore` port. */
export class NatsObjectStore implements ObjectStore {
  constructor(
    readonly bucket: string,
    private readonly store: ObjectStoreClient,
  ) {}

  async put(name: string, data: Uint8Array): Promise<ObjectInfo> {
    checkName(name);
    const info = await mapErrors(this.store.putBlob({ name }, data), name);
    return toObjectInfo(info);
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    checkName(name);
    const data = await mapErrors(this.store.getBlob(name), name);
    return data ?? undefined;
  }

  async info(name: string): Promise<ObjectInfo | undefined> {
    checkName(name);
    const info = await mapErrors(this.store.info(name), name);
    return info && !info.deleted ? toObjectInfo(info) : undefined;
  }

  async delete(name: string): Promise<boolean> {
    if (!(await this.info(name))) return false;
    await mapErrors(this.store.delete(name), name);
    return true;
  }
}

function checkName(name: string): void {
  if (name === "") throw new BusError("invalid_argument", "object name must not be empty");
}

/** NATS keeps the digest as `SHA-256=<base64url>`; the port speaks hex, like `sha256sum`. */
function toObjectInfo(info: NatsObjectInfo): ObjectInfo {
  if (!info.digest.startsWith(DIGEST_PREFIX)) {
    throw new Error(`object ${info.name} has a digest of unknown type: ${info.digest}`);
  }
  return {
    name: info.name,
    size: info.size,
    sha256: Buffer.from(info.digest.slice(DIGEST_PREFIX.length), "base64url").toString("hex"),
    modifiedMs: Date.parse(info.mtime),
  };
}
