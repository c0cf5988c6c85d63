/**
 * The plugin runtime: loads plugin versions (compile once per module, warm an instance, verify the
 * declared capabilities) and runs calls on them through the worker-thread pool, within per-plugin
 * admission limits and call deadlines. Updating a plugin swaps versions atomically: new calls use
 * the new version while calls in flight finish on the old one.
 */
import { CallError, CallErrorCode, findMethod, hostImportsFor, type Capability } from "@tonearm/abi";
import { grantedPermissions, validateRuntimePermissions, type PluginManifest } from "@tonearm/manifest";
import { createHash } from "node:crypto";
import { Admission } from "./admission.js";
import { MemoryLimitError, limitMemory } from "./memory-limit.js";
import { checkImports } from "./module-check.js";
import { compileOptions, type CompiledRuntimeOptions, type RuntimeOptions } from "./options.js";
import { ThreadPool, type ThreadPoolStats } from "./thread-pool.js";
import type { ThreadPlugin } from "./thread-protocol.js";

export interface PluginSpec {
  /** The plugin id: its folder name. */
  readonly id: string;
  readonly manifest: PluginManifest;
  readonly wasm: Uint8Array;
  /** Hex sha256 of `wasm`; computed when absent. */
  readonly sha256?: string;
  /** The plugin's `[PluginConfig.<id>]` map. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface LoadedPlugin {
  readonly id: string;
  readonly version: string;
  readonly sha256: string;
  readonly manifest: PluginManifest;
}

export type PluginStatus =
  | { readonly state: "ready"; readonly plugin: LoadedPlugin; readonly lastError?: string }
  | { readonly state: "failed"; readonly error: string };

export interface CallOptions {
  /** Overrides the runtime's call timeout. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface RuntimeStats extends ThreadPoolStats {
  /** Per plugin: calls admitted (`active`), calls waiting for admission, threads running its calls. */
  readonly plugins: Readonly<Record<string, { readonly active: number; readonly waiting: number; readonly threads: number }>>;
}

interface Version extends LoadedPlugin {
  readonly key: string;
  readonly thread: ThreadPlugin;
  readonly moduleKey: string;
  inFlight: number;
  retired: boolean;
}

interface Entry {
  readonly admission: Admission;
  current?: Version;
  error?: string;
}

export class Runtime {
  readonly #options: CompiledRuntimeOptions;
  readonly #hooks: RuntimeOptions;
  readonly #pool: ThreadPool;
  readonly #plugins = new Map<string, Entry>();
  readonly #modules = new Map<string, { module: Promise<WebAssembly.Module>; users: number }>();
  #generation = 0;
  #closing?: Promise<void>;

  protected constructor(options: RuntimeOptions) {
    this.#options = compileOptions(options);
    this.#hooks = options;
    const host = options.host;
    this.#pool = new ThreadPool({
      minThreads: this.#options.minThreads,
      maxThreads: this.#options.maxThreads,
      maxThreadsPerPlugin: this.#options.maxThreadsPerPlugin,
      threadIdleTtlMs: this.#options.threadIdleTtlMs,
      limits: { maxIdle: this.#options.maxIdle, idleTtlMs: this.#options.idleTtlMs, maxResultSize: this.#options.maxResultSize },
      ...(host?.threadHost ? { threadHost: host.threadHost } : {}),
      handleHostCall: host?.handleHostCall ?? ((call) => Promise.reject(new Error(`no host service answers env.${call.name}`))),
      onPluginLog: options.onPluginLog ?? (() => undefined),
    });
  }

  static create(options: RuntimeOptions = {}): Runtime {
    return new Runtime(options);
  }

  get options(): CompiledRuntimeOptions {
    return this.#options;
  }

  /**
   * Loads (or updates) a plugin. Resolves once an instance of the new version answered its
   * capability checks; rejects with a `load_error` CallError otherwise. A failed update leaves the
   * previous version serving.
   */
  async load(spec: PluginSpec): Promise<LoadedPlugin> {
    this.#assertOpen();
    const entry = this.#entry(spec.id);
    try {
      const version = await this.#prepare(spec);
      const previous = entry.current;
      entry.current = version;
      delete entry.error;
      if (previous) this.#retire(previous);
      return publicView(version);
    } catch (err) {
      const error = err instanceof CallError ? err : new CallError(CallErrorCode.LoadError, String(err));
      entry.error = error.message;
      throw error.code === CallErrorCode.LoadError ? error : new CallError(CallErrorCode.LoadError, error.message, { cause: error });
    }
  }

  /** Removes a plugin; calls in flight finish first. */
  unload(id: string): void {
    const entry = this.#plugins.get(id);
    if (!entry) return;
    this.#plugins.delete(id);
    if (entry.current) this.#retire(entry.current);
  }

  /**
   * Takes a loaded plugin out of service with a reason, e.g. when its `OnInit` failed: calls are
   * refused with `load_error` and that reason until the plugin is loaded again.
   */
  markFailed(id: string, reason: string): void {
    const entry = this.#entry(id);
    entry.error = reason;
    const current = entry.current;
    delete entry.current;
    if (current) this.#retire(current);
  }

  status(id: string): PluginStatus | undefined {
    const entry = this.#plugins.get(id);
    if (!entry) return undefined;
    if (entry.current) return { state: "ready", plugin: publicView(entry.current), ...(entry.error ? { lastError: entry.error } : {}) };
    return { state: "failed", error: entry.error ?? "not loaded" };
  }

  /** Ids of loaded plugins, failed ones included. */
  ids(): string[] {
    return [...this.#plugins.keys()].sort();
  }

  /**
   * Calls `<capability>/<method>` of a plugin with an encoded request and resolves with the encoded
   * response. Rejects with a CallError: `not_found` (unknown plugin, or the plugin answered
   * `plugin:not_found`), `not_implemented`, `bad_request`, `load_error`, `unavailable`, `timeout`,
   * `plugin_error`.
   */
  async call(id: string, capability: string, method: string, request: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    const started = performance.now();
    let code: string | undefined;
    try {
      return await this.#call(id, capability, method, request, options);
    } catch (err) {
      code = err instanceof CallError ? err.code : CallErrorCode.PluginError;
      throw err;
    } finally {
      this.#hooks.onCallComplete?.({ pluginId: id, capability, method, durationMs: performance.now() - started, ...(code ? { code } : {}) });
    }
  }

  stats(): RuntimeStats {
    const pool = this.#pool.stats();
    const plugins: Record<string, { active: number; waiting: number; threads: number }> = {};
    for (const [id, e] of this.#plugins) plugins[id] = { active: e.admission.active, waiting: e.admission.waiting, threads: pool.threadsByPlugin[id] ?? 0 };
    return { ...pool, plugins };
  }

  /** Stops every thread; calls still running fail with `unavailable`. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #call(id: string, capability: string, method: string, request: Uint8Array, options: CallOptions): Promise<Uint8Array> {
    this.#assertOpen();
    const entry = this.#plugins.get(id);
    if (!entry) throw new CallError(CallErrorCode.NotFound, `plugin not found: ${id}`);
    const version = entry.current;
    if (!version) throw new CallError(CallErrorCode.LoadError, entry.error ?? `plugin ${id} is not loaded`);
    const m = findMethod(capability, method);
    if (!m) throw new CallError(CallErrorCode.BadRequest, `unknown method ${capability}/${method}`);
    if (!version.manifest.capabilities.includes(m.capability)) {
      throw new CallError(CallErrorCode.NotImplemented, `plugin ${id} does not declare the ${m.capability} capability`);
    }
    const timeoutMs = options.timeoutMs ?? this.#options.callTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const release = await entry.admission.acquire(Math.min(this.#options.acquireTimeoutMs, timeoutMs), options.signal);
    if (this.#plugins.get(id) !== entry || !entry.current) {
      release();
      throw new CallError(CallErrorCode.NotFound, `plugin not found: ${id}`);
    }
    // Pin the version current when the call was admitted: an update now must not disturb it.
    const pinned = entry.current;
    pinned.inFlight++;
    try {
      return await this.#pool.run({
        plugin: pinned.thread,
        work: { type: "call", capability: m.capability, exportName: m.exportName, request },
        deadline,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } finally {
      release();
      pinned.inFlight--;
      if (pinned.retired && pinned.inFlight === 0) this.#dispose(pinned);
    }
  }

  async #prepare(spec: PluginSpec): Promise<Version> {
    try {
      validateRuntimePermissions(spec.manifest);
    } catch (err) {
      throw new CallError(CallErrorCode.LoadError, (err as Error).message);
    }
    const sha256 = spec.sha256 ?? createHash("sha256").update(spec.wasm).digest("hex");
    const moduleKey = `${sha256}/${this.#options.memoryLimitPages}`;
    const module = await this.#compile(moduleKey, spec.wasm);
    const linkedEnv = hostImportsFor(grantedPermissions(spec.manifest)).map((i) => i.name);
    let version: Version | undefined;
    try {
      const linkError = checkImports(module, new Set(linkedEnv));
      if (linkError) throw new CallError(CallErrorCode.LoadError, linkError);
      const key = `${spec.id}#${++this.#generation}`;
      const capabilities: Capability[] = [...new Set(spec.manifest.capabilities)];
      version = {
        id: spec.id,
        version: spec.manifest.version,
        sha256,
        manifest: spec.manifest,
        key,
        moduleKey,
        inFlight: 0,
        retired: false,
        thread: { key, pluginId: spec.id, module, capabilities, linkedEnv, config: { ...(spec.config ?? {}) } },
      };
      await this.#pool.run({ plugin: version.thread, work: { type: "warm" }, deadline: Date.now() + this.#options.callTimeoutMs });
      return version;
    } catch (err) {
      if (version) this.#pool.unload(version.key);
      this.#releaseModule(moduleKey);
      throw err;
    }
  }

  async #compile(moduleKey: string, wasm: Uint8Array): Promise<WebAssembly.Module> {
    let cached = this.#modules.get(moduleKey);
    if (!cached) {
      const compiling = (async () => {
        let bytes: Uint8Array<ArrayBuffer>;
        try {
          bytes = limitMemory(wasm, this.#options.memoryLimitPages).bytes;
        } catch (err) {
          if (err instanceof MemoryLimitError) throw new CallError(CallErrorCode.LoadError, err.message);
          throw err;
        }
        try {
          return await WebAssembly.compile(bytes);
        } catch (err) {
          throw new CallError(CallErrorCode.LoadError, `failed to compile plugin.wasm: ${(err as Error).message}`);
        }
      })();
      cached = { module: compiling, users: 0 };
      this.#modules.set(moduleKey, cached);
    }
    cached.users++;
    try {
      return await cached.module;
    } catch (err) {
      this.#releaseModule(moduleKey);
      throw err;
    }
  }

  #releaseModule(moduleKey: string): void {
    const cached = this.#modules.get(moduleKey);
    if (cached && --cached.users <= 0) this.#modules.delete(moduleKey);
  }

  #retire(version: Version): void {
    version.retired = true;
    if (version.inFlight === 0) this.#dispose(version);
  }

  #dispose(version: Version): void {
    this.#pool.unload(version.key);
    this.#releaseModule(version.moduleKey);
  }

  #entry(id: string): Entry {
    let entry = this.#plugins.get(id);
    if (!entry) {
      entry = { admission: new Admission({ limit: this.#options.maxConcurrent, maxQueued: this.#options.maxQueued, owner: `plugin ${id}` }) };
      this.#plugins.set(id, entry);
    }
    return entry;
  }

  #assertOpen(): void {
    if (this.#closing) throw new CallError(CallErrorCode.Unavailable, "runtime is closed");
  }
}

function publicView(v: Version): LoadedPlugin {
  return { id: v.id, version: v.version, sha256: v.sha256, manifest: v.manifest };
}
