// A minimal, test-only host for plugins built with the PDK: just enough of the go-plugin calling
// convention (ABI.md §1.4, §1.5) and of WASI to call exports and answer `env` imports in one
// thread. The real host is @tonearm/runtime; this one exists so the PDK can be checked on its own.
import { randomFillSync } from "node:crypto";
import { unpackResult } from "@tonearm/abi";

/** Answers one `env` import: request bytes in, response bytes out. */
export type HostFunction = (request: Uint8Array) => Uint8Array;

export type CallOutcome = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
    this.name = "ProcExit";
  }
}

type Exports = Record<string, WebAssembly.ExportValue>;

export class TestHost {
  /** Text the guest wrote to stderr and stdout. */
  readonly output = { stderr: "", stdout: "" };
  /** Every `env` call: import name and request bytes. */
  readonly hostCalls: { name: string; request: Uint8Array }[] = [];
  /** Pointers of the buffers written through the guest's `malloc` for `env` responses in the last call. */
  hostBuffers: number[] = [];
  /** Free the host buffers after each call, as Tonearm does (ABI.md §16). */
  freeHostBuffers = true;

  #exports: Exports = {};

  private constructor() {}

  /** Instantiates a module with WASI and exactly the given `env` functions, then runs `_initialize`. */
  static async load(wasm: Uint8Array, env: Record<string, HostFunction> = {}): Promise<TestHost> {
    const host = new TestHost();
    const module = await WebAssembly.compile(wasm);
    const envImports: Record<string, (offset: number, size: number) => bigint> = {};
    for (const [name, fn] of Object.entries(env)) envImports[name] = (offset, size) => host.#hostCall(name, fn, offset, size);
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: host.#wasi(module), env: envImports });
    host.#exports = instance.exports as Exports;
    (host.#exports._initialize as () => void)();
    return host;
  }

  get exports(): Exports {
    return this.#exports;
  }

  get memory(): WebAssembly.Memory {
    return this.#exports.memory as WebAssembly.Memory;
  }

  malloc(size: number): number {
    return (this.#exports.malloc as (n: number) => number)(size);
  }

  free(ptr: number): void {
    (this.#exports.free as (p: number) => void)(ptr);
  }

  /** Calls a capability export with an encoded request, as a host does, freeing what it should. */
  call(exportName: string, request: Uint8Array): CallOutcome {
    const fn = this.#exports[exportName] as (ptr: number, len: number) => bigint;
    this.hostBuffers = [];
    let ptr = 0;
    if (request.length > 0) {
      ptr = this.malloc(request.length);
      new Uint8Array(this.memory.buffer, ptr, request.length).set(request);
    }
    const result = unpackResult(fn(ptr, request.length));
    const bytes = new Uint8Array(this.memory.buffer, result.ptr, result.len).slice();
    if (result.ptr !== 0) this.free(result.ptr);
    if (ptr !== 0) this.free(ptr);
    if (this.freeHostBuffers) for (const p of this.hostBuffers) this.free(p);
    return result.isError ? { ok: false, error: new TextDecoder().decode(bytes) } : { ok: true, bytes };
  }

  #hostCall(name: string, fn: HostFunction, offset: number, size: number): bigint {
    const request = new Uint8Array(this.memory.buffer, offset, size).slice();
    this.hostCalls.push({ name, request });
    const response = fn(request);
    if (response.length === 0) return 0n;
    const ptr = this.malloc(response.length); // re-enters the guest while it waits in the import
    new Uint8Array(this.memory.buffer, ptr, response.length).set(response);
    this.hostBuffers.push(ptr);
    return (BigInt(ptr) << 32n) | BigInt(response.length);
  }

  #wasi(module: WebAssembly.Module): Record<string, (...args: number[]) => number> {
    const view = (): DataView => new DataView(this.memory.buffer);
    const decoder = new TextDecoder();
    const implemented: Record<string, (...args: never[]) => number> = {
      fd_write: (fd: number, iovs: number, count: number, written: number) => {
        const dv = view();
        let total = 0;
        for (let i = 0; i < count; i++) {
          const p = dv.getUint32(iovs + i * 8, true);
          const len = dv.getUint32(iovs + i * 8 + 4, true);
          const text = decoder.decode(new Uint8Array(dv.buffer, p, len));
          if (fd === 1) this.output.stdout += text;
          else if (fd === 2) this.output.stderr += text;
          total += len;
        }
        dv.setUint32(written, total, true);
        return 0;
      },
      proc_exit: (code: number) => {
        throw new ProcExit(code);
      },
      random_get: (buf: number, len: number) => {
        randomFillSync(new Uint8Array(this.memory.buffer, buf, len));
        return 0;
      },
      clock_time_get: (_id: number, _precision: bigint, out: number) => {
        view().setBigUint64(out, BigInt(Date.now()) * 1_000_000n, true);
        return 0;
      },
    };
    const ENOSYS = 52;
    const wanted = WebAssembly.Module.imports(module).filter((i) => i.module === "wasi_snapshot_preview1");
    return Object.fromEntries(wanted.map((i) => [i.name, (implemented[i.name] ?? (() => ENOSYS)) as (...args: number[]) => number]));
  }
}
