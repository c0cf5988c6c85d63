// A test-only WASI preview1 stub: just enough for a Go reactor module to initialise and answer
// calls in these shape checks. Output is captured, clocks and randomness are real, `proc_exit`
// throws, and every other import fails with ENOSYS. The host has its own full implementation.
import { randomFillSync } from "node:crypto";

const ESUCCESS = 0;
const EBADF = 8;
const ENOSYS = 52;

export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
    this.name = "ProcExit";
  }
}

export interface WasiStub {
  /** The `wasi_snapshot_preview1` import object for a module. */
  imports(module: WebAssembly.Module): Record<string, (...args: never[]) => number>;
  /** Must be called once the instance exists, before any export runs. */
  bind(memory: WebAssembly.Memory): void;
  /** What the guest wrote to stdout (fd 1) and stderr (fd 2). */
  readonly output: { stdout: string; stderr: string };
}

export function wasiStub(): WasiStub {
  let memory: WebAssembly.Memory | undefined;
  const output = { stdout: "", stderr: "" };
  const view = (): DataView => {
    if (!memory) throw new Error("WASI stub used before bind()");
    return new DataView(memory.buffer);
  };
  const decoder = new TextDecoder();

  const implemented: Record<string, (...args: never[]) => number> = {
    fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
      if (fd !== 1 && fd !== 2) return EBADF;
      const dv = view();
      let text = "";
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = dv.getUint32(iovs + i * 8, true);
        const len = dv.getUint32(iovs + i * 8 + 4, true);
        text += decoder.decode(new Uint8Array(dv.buffer, ptr, len));
        total += len;
      }
      output[fd === 1 ? "stdout" : "stderr"] += text;
      dv.setUint32(nwritten, total, true);
      return ESUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, out: number): number {
      const now = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
      view().setBigUint64(out, now, true);
      return ESUCCESS;
    },
    random_get(buf: number, len: number): number {
      randomFillSync(new Uint8Array(view().buffer, buf, len));
      return ESUCCESS;
    },
    proc_exit(code: number): number {
      throw new ProcExit(code);
    },
    // No arguments and no environment variables.
    args_sizes_get: (count: number, size: number) => zeroes(view(), count, size),
    environ_sizes_get: (count: number, size: number) => zeroes(view(), count, size),
    args_get: () => ESUCCESS,
    environ_get: () => ESUCCESS,
    sched_yield: () => ESUCCESS,
  };

  return {
    output,
    bind(m) {
      memory = m;
    },
    imports(module) {
      const wanted = WebAssembly.Module.imports(module).filter((i) => i.module === "wasi_snapshot_preview1");
      return Object.fromEntries(wanted.map((i) => [i.name, implemented[i.name] ?? (() => ENOSYS)]));
    },
  };
}

function zeroes(dv: DataView, ...ptrs: number[]): number {
  for (const p of ptrs) dv.setUint32(p, 0, true);
  return ESUCCESS;
}
