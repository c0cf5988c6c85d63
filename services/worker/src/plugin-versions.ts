/**
 * The plugin versions this worker's runtime serves, kept in step with the published records.
 *
 * - Lazy: a plugin is loaded (wasm from the object store by sha256) when a call or a verification
 *   first needs it, and stays warm. Concurrent requests for one version share one load.
 * - Updates: when a plugin already served here gets a new version, it loads in the background;
 *   calls go on running on the old version until the new one is ready, and calls in flight finish
 *   on the old one (the runtime pins the version a call was admitted on). No call fails because
 *   of an update.
 * - Loads of one plugin run one after another, so the last version asked for is the one served.
 * - A version that does not load (bad manifest, compile or link error, a sealed setting this
 *   worker cannot open) is remembered and refused with the same `load_error` until its plugin gets
 *   another version.
 * - Records carry secret settings sealed; the version served holds them opened, for the plugin.
 */
import { createHash } from "node:crypto";
import { CallError, CallErrorCode } from "@tonearm/abi";
import { SecretsError, type PluginSecrets } from "@tonearm/config";
import { PluginState, type ObjectStore, type PluginRecord } from "@tonearm/bus";
import { parseManifest, type PluginManifest } from "@tonearm/manifest";
import type { Runtime } from "@tonearm/runtime";
import type { CallTarget } from "./call-gate.js";

export interface LoadedVersion {
  readonly record: PluginRecord;
  readonly manifest: PluginManifest;
  /** The plugin's settings as it receives them: sealed values opened. */
  readonly config: Readonly<Record<string, string>>;
}

export interface PluginVersionsOptions {
  readonly runtime: Runtime;
  readonly artifacts: ObjectStore;
  /** Opens the sealed settings of records. */
  readonly secrets: PluginSecrets;
  /** Whether `record` is still the version its plugin should serve; asked before a background load. */
  readonly wanted: (record: PluginRecord) => boolean;
  /** Told when a background load fails: calls go on with the version already served. */
  readonly onBackgroundFailure: (record: PluginRecord, error: CallError) => void;
}

interface PendingLoad {
  readonly promise: Promise<void>;
  /** Someone waits for this load: it runs even if the version is no longer wanted. */
  awaited: boolean;
}

export class PluginVersions {
  readonly #options: PluginVersionsOptions;
  readonly #loaded = new Map<string, LoadedVersion>();
  /** Loads asked for and not finished, by `versionKey`. */
  readonly #pending = new Map<string, PendingLoad>();
  /** The tail of each plugin's chain of loads. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Bumped when a plugin is unloaded: loads asked for before then must not bring it back. */
  readonly #generations = new Map<string, number>();
  /** The last version of each plugin that failed to load, and why. */
  readonly #failed = new Map<string, { readonly key: string; readonly error: CallError }>();

  constructor(options: PluginVersionsOptions) {
    this.#options = options;
  }

  /** The version the runtime serves for `id`, if any. */
  loaded(id: string): LoadedVersion | undefined {
    return this.#loaded.get(id);
  }

  /** Every version the runtime serves. */
  all(): LoadedVersion[] {
    return [...this.#loaded.values()];
  }

  /**
   * Makes sure the runtime serves a version `target` accepts. Without `exact`, a version already
   * served keeps serving while the target version loads in the background.
   */
  async prepare(target: CallTarget): Promise<void> {
    if (!this.servesNow(target)) await this.#request(target.record, true);
  }

  /**
   * Whether the runtime serves a version `target` accepts now, with nothing to wait for (the
   * first part of `prepare`, for callers that skip waiting when nothing needs loading). When an
   * older version serves meanwhile, the target's version starts loading in the background, as
   * `prepare` would.
   */
  servesNow(target: CallTarget): boolean {
    const { record } = target;
    const current = this.#loaded.get(record.id);
    if (current === undefined) return false;
    if (sameVersion(current.record, record)) return true;
    if (target.exact) return false;
    const acceptable = target.alsoAcceptable !== undefined && sameVersion(current.record, target.alsoAcceptable);
    if (!acceptable) this.loadInBackground(record);
    return true;
  }

  /** Starts loading `record`'s version unless it is served, loading, or known not to load. */
  loadInBackground(record: PluginRecord): void {
    const current = this.#loaded.get(record.id);
    if (current !== undefined && sameVersion(current.record, record)) return;
    if (this.#failed.get(record.id)?.key === versionKey(record)) return;
    this.#request(record, false).catch((err: unknown) => this.#options.onBackgroundFailure(record, asCallError(err)));
  }

  /** Follows a record change: unloads plugins that may no longer run, preloads new versions of served ones. */
  follow(record: PluginRecord): void {
    switch (record.state) {
      case PluginState.REMOVED:
      case PluginState.DISABLED:
      case PluginState.FAILED:
        this.unload(record.id);
        return;
      case PluginState.READY:
        if (this.#loaded.has(record.id)) this.loadInBackground(record);
        return;
      default:
        // LOADING: the registry has one worker verify it; the others load it once it is READY.
        return;
    }
  }

  /** Takes a plugin out of the runtime (calls in flight finish first) and cancels its queued loads. */
  unload(id: string): void {
    this.#generations.set(id, this.#generation(id) + 1);
    this.#failed.delete(id);
    if (this.#loaded.delete(id)) this.#options.runtime.unload(id);
  }

  #request(record: PluginRecord, awaited: boolean): Promise<void> {
    const key = versionKey(record);
    const failed = this.#failed.get(record.id);
    if (failed?.key === key) return Promise.reject(failed.error);
    const pending = this.#pending.get(key);
    if (pending !== undefined) {
      pending.awaited ||= awaited;
      return pending.promise;
    }
    const generation = this.#generation(record.id);
    const previous = this.#chains.get(record.id) ?? Promise.resolve();
    const load: PendingLoad = {
      awaited,
      promise: previous.then(() => this.#load(record, key, generation, load)),
    };
    const tail = load.promise.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.set(key, load);
    this.#chains.set(record.id, tail);
    void tail.then(() => {
      this.#pending.delete(key);
      if (this.#chains.get(record.id) === tail) this.#chains.delete(record.id);
    });
    return load.promise;
  }

  async #load(record: PluginRecord, key: string, generation: number, load: PendingLoad): Promise<void> {
    const { id } = record;
    if (this.#generation(id) !== generation) throw removed(id);
    if (!load.awaited && !this.#options.wanted(record)) return;
    const current = this.#loaded.get(id);
    if (current !== undefined && sameVersion(current.record, record)) return;
    let manifest: PluginManifest;
    try {
      manifest = parseManifest(record.manifestJson);
    } catch (err) {
      throw this.#remember(id, key, new CallError(CallErrorCode.LoadError, describe(err), { cause: err }));
    }
    let config: Record<string, string>;
    try {
      config = this.#options.secrets.open(id, record.config);
    } catch (err) {
      if (!(err instanceof SecretsError)) throw err;
      throw this.#remember(id, key, new CallError(CallErrorCode.LoadError, err.message, { cause: err }));
    }
    const wasm = await this.#fetch(record);
    if (this.#generation(id) !== generation) throw removed(id);
    try {
      await this.#options.runtime.load({ id, manifest, wasm, sha256: record.sha256, config });
    } catch (err) {
      const error = asCallError(err);
      throw error.code === CallErrorCode.LoadError ? this.#remember(id, key, error) : error;
    }
    if (this.#generation(id) !== generation) {
      // Removed while compiling: what was just loaded must not serve.
      this.#options.runtime.unload(id);
      throw removed(id);
    }
    this.#loaded.set(id, { record, manifest, config });
    this.#failed.delete(id);
  }

  async #fetch(record: PluginRecord): Promise<Uint8Array> {
    let data: Uint8Array | undefined;
    try {
      data = await this.#options.artifacts.get(record.sha256);
    } catch (err) {
      throw new CallError(CallErrorCode.Unavailable, `cannot fetch the wasm of plugin ${record.id}: ${describe(err)}`, { cause: err });
    }
    if (data === undefined) {
      throw new CallError(CallErrorCode.LoadError, `the wasm of plugin ${record.id} (sha256 ${record.sha256}) is not in the object store`);
    }
    const wasm = new Uint8Array(data);
    const actual = createHash("sha256").update(wasm).digest("hex");
    if (actual !== record.sha256) {
      throw new CallError(CallErrorCode.LoadError, `the stored wasm of plugin ${record.id} has sha256 ${actual}, not ${record.sha256}`);
    }
    return wasm;
  }

  #remember(id: string, key: string, error: CallError): CallError {
    this.#failed.set(id, { key, error });
    return error;
  }

  #generation(id: string): number {
    return this.#generations.get(id) ?? 0;
  }
}

/** Two records describe the same loaded version: same wasm, manifest and configuration. */
export function sameVersion(a: PluginRecord, b: PluginRecord): boolean {
  return a.id === b.id && a.sha256 === b.sha256 && a.manifestJson === b.manifestJson && sameConfig(a.config, b.config);
}

function versionKey(record: PluginRecord): string {
  const config = Object.keys(record.config)
    .sort()
    .map((key) => [key, record.config[key]]);
  return JSON.stringify([record.id, record.sha256, record.manifestJson, config]);
}

function sameConfig(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

function removed(id: string): CallError {
  return new CallError(CallErrorCode.NotFound, `plugin ${id} was removed while it loaded`);
}

export function asCallError(err: unknown): CallError {
  if (err instanceof CallError) return err;
  return new CallError(CallErrorCode.PluginError, describe(err), { cause: err });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
