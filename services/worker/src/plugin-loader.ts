/**
 * Keeps the runtime's plugins in step with the published records: loads a version lazily from the
 * object store by sha256 (concurrent first calls share one load), loads new versions in the
 * background while calls in flight finish on the old one, unloads removed plugins.
 */
import { CallError, CallErrorCode } from "@tonearm/abi";
import { PluginState, type ObjectStore, type PluginRecord } from "@tonearm/bus";
import { parseManifest } from "@tonearm/manifest";
import type { Runtime } from "@tonearm/runtime";

export class PluginLoader {
  readonly #runtime: Runtime;
  readonly #artifacts: ObjectStore;
  readonly #loading = new Map<string, Promise<void>>();

  constructor(runtime: Runtime, artifacts: ObjectStore) {
    this.#runtime = runtime;
    this.#artifacts = artifacts;
  }

  /** Whether the runtime serves exactly this version of the plugin. */
  isCurrent(record: PluginRecord): boolean {
    const status = this.#runtime.status(record.id);
    return status?.state === "ready" && status.plugin.sha256 === record.sha256;
  }

  /** Loads the record's version unless it is loaded; rejects with the runtime's `load_error`. */
  ensure(record: PluginRecord): Promise<void> {
    if (this.isCurrent(record)) return Promise.resolve();
    const key = `${record.id}\u0000${record.sha256}`;
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = this.#load(record).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  /** Follows a record change: a new version of a plugin this worker serves is loaded ahead of calls. */
  follow(record: PluginRecord, onError: (err: Error) => void): void {
    if (record.state === PluginState.REMOVED || record.state === PluginState.DISABLED) {
      this.#runtime.unload(record.id);
      return;
    }
    const served = this.#runtime.status(record.id)?.state === "ready";
    if (record.state === PluginState.READY && served && !this.isCurrent(record)) this.ensure(record).catch(onError);
  }

  async #load(record: PluginRecord): Promise<void> {
    const wasm = await this.#artifacts.get(record.sha256);
    if (!wasm) throw new CallError(CallErrorCode.Unavailable, `the artifact ${record.sha256} of plugin ${record.id} is not in the object store`);
    let manifest;
    try {
      manifest = parseManifest(record.manifestJson);
    } catch (err) {
      throw new CallError(CallErrorCode.LoadError, (err as Error).message);
    }
    await this.#runtime.load({ id: record.id, manifest, wasm: new Uint8Array(wasm), sha256: record.sha256, config: record.config });
  }
}
