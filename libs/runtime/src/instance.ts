/**
 * One instantiated plugin module and the host → guest call of ABI.md §1.4. Runs inside a worker
 * thread. An instance that trapped, exited or misbehaved is marked `broken` and never reused.
 */
import { CallError, CallErrorCode, HOST_API_VERSION, capability, packResult, unpackResult, type Capability } from "@tonearm/abi";
import { HostCallFailed } from "./bridge.js";
import { ProcExit, createWasi } from "./wasi.js";

/** Answers one `env` import synchronously with the encoded response. */
export type HostDispatch = (name: string, request: Uint8Array) => Uint8Array;

interface GuestExports {
  readonly memory: WebAssembly.Memory;
  readonly malloc: (size: number) => number;
  readonly free: (ptr: number) => void;
}

export interface InstanceOptions {
  readonly pluginId: string;
  /** The `env` imports linked for this plugin (only those its permissions grant). */
  readonly linkedEnv: readonly string[];
  readonly dispatch: HostDispatch;
  readonly onStderr: (chunk: Uint8Array) => void;
  readonly maxResultSize: number;
}

export type GuestResult = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly error: string };

export class PluginInstance {
  /** Set once the instance trapped or returned something it must not; it is then dropped, never pooled. */
  broken = false;
  readonly #exports: WebAssembly.Exports;
  readonly #guest: GuestExports;
  readonly #options: InstanceOptions;
  /** Buffers the host wrote through the guest's `malloc` during the current call; freed after it. */
  readonly #hostBuffers: number[] = [];
  readonly #verified = new Set<Capability>();

  private constructor(exports: WebAssembly.Exports, guest: GuestExports, options: InstanceOptions) {
    this.#exports = exports;
    this.#guest = guest;
    this.#options = options;
  }

  /** Instantiates and runs `_initialize`. Throws a `load_error` CallError on failure. */
  static create(module: WebAssembly.Module, options: InstanceOptions): PluginInstance {
    const wasi = createWasi({ stderr: options.onStderr });
    // The instance does not exist yet while imports are linked; they resolve it at call time.
    const linked: { instance?: PluginInstance } = {};
    const env: Record<string, (offset: number, size: number) => bigint> = {};
    for (const name of options.linkedEnv) {
      env[name] = (offset, size) => {
        const self = linked.instance;
        if (!self) throw new HostCallFailed(name, "called before the module finished loading");
        return self.#hostCall(name, offset, size);
      };
    }
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, { env, wasi_snapshot_preview1: wasi.imports });
    } catch (err) {
      throw loadError(describeFault(err));
    }
    const exports = instance.exports;
    const memory = exports["memory"];
    if (!(memory instanceof WebAssembly.Memory)) throw loadError("memory is not exported");
    wasi.bind(memory);
    for (const name of ["malloc", "free"]) {
      if (typeof exports[name] !== "function") throw loadError(`${name} is not exported`);
    }
    const guest = exports as unknown as GuestExports;
    const self = new PluginInstance(exports, guest, options);
    linked.instance = self;
    const init = exports["_initialize"];
    if (typeof init === "function") {
      try {
        (init as () => void)();
      } catch (err) {
        if (!(err instanceof ProcExit && err.code === 0)) {
          throw loadError(err instanceof ProcExit ? `unexpected exit_code: ${err.code}` : `_initialize failed: ${describeFault(err)}`);
        }
      }
    }
    return self;
  }

  /**
   * Checks the exports of a capability as go-plugin's loader does (ABI.md §1.3): the version export,
   * its value, and every method export. Done once per capability per instance.
   */
  verify(cap: Capability): void {
    if (this.#verified.has(cap)) return;
    const desc = capability(cap);
    const versionFn = this.#exports[desc.versionExport];
    if (typeof versionFn !== "function") throw loadError(`${desc.versionExport} is not exported`);
    let version: unknown;
    try {
      version = (versionFn as () => unknown)();
    } catch (err) {
      this.broken = true;
      throw loadError(`${desc.versionExport} failed: ${describeFault(err)}`);
    }
    if (typeof version !== "bigint") throw loadError(`invalid ${desc.versionExport} signature`);
    if (version !== HOST_API_VERSION) throw loadError(`API version mismatch, host: ${HOST_API_VERSION}, plugin: ${version}`);
    for (const m of desc.methods) {
      if (typeof this.#exports[m.exportName] !== "function") throw loadError(`${m.exportName} is not exported`);
    }
    this.#verified.add(cap);
  }

  /**
   * Calls one capability export with an encoded request. A plugin-returned error string comes back
   * as `{ ok: false }`; traps, exits and ABI violations throw a CallError and break the instance.
   */
  call(exportName: string, request: Uint8Array): GuestResult {
    const fn = this.#exports[exportName] as ((ptr: number, len: number) => bigint) | undefined;
    if (typeof fn !== "function") throw new CallError(CallErrorCode.NotImplemented, `${exportName} is not exported`);
    try {
      let reqPtr = 0;
      if (request.length > 0) {
        reqPtr = this.#guest.malloc(request.length);
        this.#write(reqPtr, request, "Write");
      }
      const packed = unpackResult(fn(reqPtr, request.length));
      if (packed.len > this.#options.maxResultSize) {
        this.broken = true;
        throw new CallError(
          CallErrorCode.PluginError,
          `result of ${packed.len} bytes exceeds the limit of ${this.#options.maxResultSize} bytes`,
        );
      }
      // Read before freeing anything: the result may live in the request buffer or a host buffer.
      const bytes = this.#read(packed.ptr, packed.len);
      if (packed.ptr !== 0) this.#guest.free(packed.ptr);
      if (reqPtr !== 0 && reqPtr !== packed.ptr) this.#guest.free(reqPtr);
      this.#freeHostBuffers(packed.ptr);
      return packed.isError ? { ok: false, error: new TextDecoder().decode(bytes) } : { ok: true, bytes };
    } catch (err) {
      this.broken = true;
      if (err instanceof CallError) throw err;
      throw new CallError(CallErrorCode.PluginError, describeFault(err), { cause: err });
    }
  }

  #hostCall(name: string, offset: number, size: number): bigint {
    const request = this.#read(offset, size);
    const response = this.#options.dispatch(name, request);
    if (response.length === 0) return 0n;
    const ptr = this.#guest.malloc(response.length);
    this.#write(ptr, response, "Write");
    this.#hostBuffers.push(ptr);
    return packResult(ptr, response.length);
  }

  /**
   * Navidrome never frees the buffers it writes for `env` responses and Go guests never do either,
   * so every host call leaks (ABI.md §16). Freeing them once the outer call returned is safe: the
   * guest's decoders copied what they needed.
   */
  #freeHostBuffers(alreadyFreed: number): void {
    for (const ptr of this.#hostBuffers.splice(0)) if (ptr !== alreadyFreed) this.#guest.free(ptr);
  }

  #read(ptr: number, len: number): Uint8Array {
    const size = this.#guest.memory.buffer.byteLength;
    if (ptr < 0 || len < 0 || ptr + len > size) {
      throw new CallError(CallErrorCode.PluginError, `Memory.Read(${ptr}, ${len}) out of range of memory size ${size}`);
    }
    return new Uint8Array(this.#guest.memory.buffer, ptr, len).slice();
  }

  #write(ptr: number, data: Uint8Array, op: "Write"): void {
    const mem = this.#guest.memory.buffer; // re-read: malloc may have grown and detached the old buffer
    if (ptr <= 0 || ptr + data.length > mem.byteLength) {
      throw new CallError(CallErrorCode.PluginError, `Memory.${op}(${ptr}, ${data.length}) out of range of memory size ${mem.byteLength}`);
    }
    new Uint8Array(mem, ptr, data.length).set(data);
  }
}

function loadError(message: string): CallError {
  return new CallError(CallErrorCode.LoadError, message);
}

/** A readable one-line description of a trap, exit or host failure. */
export function describeFault(err: unknown): string {
  if (err instanceof ProcExit || err instanceof HostCallFailed) return err.message;
  if (err instanceof WebAssembly.RuntimeError) return `wasm trap: ${err.message}`;
  if (err instanceof RangeError && /call stack/i.test(err.message)) return "wasm trap: call stack exhausted";
  if (err instanceof WebAssembly.LinkError || err instanceof WebAssembly.CompileError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
