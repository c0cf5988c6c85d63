/**
 * WASI preview1 for plugins, written in TypeScript rather than handed over from `node:wasi`: the raw
 * `node:wasi` imports crash Node 20 under load (ABI.md §16), and our own gives the host control of
 * output, clocks and randomness.
 *
 * What a plugin sees matches Navidrome's wazero defaults where it matters: no args, no environment,
 * no preopened directories, stdin at EOF, stdout discarded, stderr delivered to the host, sleeps in
 * `poll_oneoff` returning at once. Clocks and randomness are real (a compatible superset of wazero's
 * fake ones).
 */
import { randomFillSync } from "node:crypto";

const Errno = {
  Success: 0,
  Badf: 8,
  Fault: 21,
  Inval: 28,
  Nosys: 52,
  Spipe: 70,
} as const;

const FILETYPE_CHARACTER_DEVICE = 2;
const RIGHTS_ALL = 0x1fff_ffffn;
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_PROCESS_CPUTIME = 2;
const CLOCK_THREAD_CPUTIME = 3;
const EVENTTYPE_CLOCK = 0;
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;

/** Thrown by `proc_exit`; unwinds the guest out of whatever export it was running. */
export class ProcExit extends Error {
  readonly code: number;

  constructor(code: number) {
    super(`module closed with exit_code(${code})`);
    this.name = "ProcExit";
    this.code = code;
  }
}

export interface WasiOptions {
  /** Receives every chunk the guest writes to stderr. */
  readonly stderr: (chunk: Uint8Array) => void;
}

export interface Wasi {
  readonly imports: Record<string, (...args: never[]) => number>;
  /** Connects the instance's exported memory once it exists. */
  bind(memory: WebAssembly.Memory): void;
}

const epochOffsetNs = BigInt(Math.round(performance.timeOrigin * 1e6));

function realtimeNs(): bigint {
  return epochOffsetNs + BigInt(Math.round(performance.now() * 1e6));
}

export function createWasi(options: WasiOptions): Wasi {
  let memory: WebAssembly.Memory | undefined;
  const view = (): DataView => {
    if (!memory) throw new Error("WASI called before the module's memory was bound");
    return new DataView(memory.buffer);
  };
  const bytes = (): Uint8Array => new Uint8Array(view().buffer);

  /** Runs a syscall body; an out-of-bounds guest pointer becomes EFAULT instead of a host crash. */
  const guarded =
    <A extends unknown[]>(fn: (...args: A) => number) =>
    (...args: A): number => {
      try {
        return fn(...args);
      } catch (err) {
        if (err instanceof RangeError) return Errno.Fault;
        throw err;
      }
    };

  const isStdio = (fd: number): boolean => fd === STDIN || fd === STDOUT || fd === STDERR;
  const zeroSizes = guarded((countPtr: number, sizePtr: number) => {
    const v = view();
    v.setUint32(countPtr, 0, true);
    v.setUint32(sizePtr, 0, true);
    return Errno.Success;
  });
  const nosys = (): number => Errno.Nosys;
  const badf = (): number => Errno.Badf;

  const imports = {
    args_get: (): number => Errno.Success,
    args_sizes_get: zeroSizes,
    environ_get: (): number => Errno.Success,
    environ_sizes_get: zeroSizes,

    clock_res_get: guarded((id: number, resPtr: number) => {
      if (id < CLOCK_REALTIME || id > CLOCK_THREAD_CPUTIME) return Errno.Inval;
      view().setBigUint64(resPtr, 1000n, true);
      return Errno.Success;
    }),
    clock_time_get: guarded((id: number, _precision: bigint, timePtr: number) => {
      let ns: bigint;
      switch (id) {
        case CLOCK_REALTIME:
          ns = realtimeNs();
          break;
        case CLOCK_MONOTONIC:
        case CLOCK_PROCESS_CPUTIME:
        case CLOCK_THREAD_CPUTIME:
          ns = process.hrtime.bigint();
          break;
        default:
          return Errno.Inval;
      }
      view().setBigUint64(timePtr, ns, true);
      return Errno.Success;
    }),

    fd_write: guarded((fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
      if (fd !== STDOUT && fd !== STDERR) return Errno.Badf;
      const v = view();
      const mem = bytes();
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32(iovs + i * 8, true);
        const len = v.getUint32(iovs + i * 8 + 4, true);
        if (ptr + len > mem.length) return Errno.Fault;
        if (fd === STDERR && len > 0) options.stderr(mem.slice(ptr, ptr + len));
        total += len;
      }
      v.setUint32(nwrittenPtr, total, true);
      return Errno.Success;
    }),
    fd_pwrite: badf,
    fd_read: guarded((fd: number, _iovs: number, _iovsLen: number, nreadPtr: number) => {
      if (fd !== STDIN) return Errno.Badf;
      view().setUint32(nreadPtr, 0, true); // stdin is at EOF
      return Errno.Success;
    }),
    fd_pread: badf,
    fd_close: (fd: number): number => (isStdio(fd) ? Errno.Success : Errno.Badf),
    fd_fdstat_get: guarded((fd: number, statPtr: number) => {
      if (!isStdio(fd)) return Errno.Badf;
      const v = view();
      v.setUint8(statPtr, FILETYPE_CHARACTER_DEVICE);
      v.setUint16(statPtr + 2, 0, true);
      v.setBigUint64(statPtr + 8, RIGHTS_ALL, true);
      v.setBigUint64(statPtr + 16, RIGHTS_ALL, true);
      return Errno.Success;
    }),
    fd_fdstat_set_flags: (fd: number): number => (isStdio(fd) ? Errno.Success : Errno.Badf),
    fd_fdstat_set_rights: (fd: number): number => (isStdio(fd) ? Errno.Success : Errno.Badf),
    fd_filestat_get: guarded((fd: number, statPtr: number) => {
      if (!isStdio(fd)) return Errno.Badf;
      const mem = bytes();
      mem.fill(0, statPtr, statPtr + 64);
      view().setUint8(statPtr + 16, FILETYPE_CHARACTER_DEVICE);
      return Errno.Success;
    }),
    fd_filestat_set_size: badf,
    fd_filestat_set_times: badf,
    fd_prestat_get: badf, // no preopened directories
    fd_prestat_dir_name: badf,
    fd_seek: (fd: number): number => (isStdio(fd) ? Errno.Spipe : Errno.Badf),
    fd_tell: (fd: number): number => (isStdio(fd) ? Errno.Spipe : Errno.Badf),
    fd_advise: badf,
    fd_allocate: badf,
    fd_datasync: badf,
    fd_sync: badf,
    fd_readdir: badf,
    fd_renumber: badf,

    path_create_directory: badf,
    path_filestat_get: badf,
    path_filestat_set_times: badf,
    path_link: badf,
    path_open: badf,
    path_readlink: badf,
    path_remove_directory: badf,
    path_rename: badf,
    path_symlink: badf,
    path_unlink_file: badf,

    poll_oneoff: guarded((inPtr: number, outPtr: number, nsubscriptions: number, neventsPtr: number) => {
      // Every subscription is reported ready at once: sleeps are no-ops, as under wazero's defaults.
      const v = view();
      for (let i = 0; i < nsubscriptions; i++) {
        const sub = inPtr + i * 48;
        const event = outPtr + i * 32;
        v.setBigUint64(event, v.getBigUint64(sub, true), true); // userdata
        v.setUint16(event + 8, Errno.Success, true);
        const type = v.getUint8(sub + 8);
        v.setUint8(event + 10, type);
        if (type !== EVENTTYPE_CLOCK) {
          v.setBigUint64(event + 16, 0n, true); // nbytes
          v.setUint16(event + 24, 0, true); // flags
        }
      }
      v.setUint32(neventsPtr, nsubscriptions, true);
      return Errno.Success;
    }),
    proc_exit: (code: number): never => {
      throw new ProcExit(code);
    },
    proc_raise: nosys,
    sched_yield: (): number => Errno.Success,
    random_get: guarded((bufPtr: number, len: number) => {
      const mem = bytes();
      if (bufPtr + len > mem.length) return Errno.Fault;
      randomFillSync(mem, bufPtr, len);
      return Errno.Success;
    }),
    sock_accept: nosys,
    sock_recv: nosys,
    sock_send: nosys,
    sock_shutdown: nosys,
  };

  return {
    imports: imports,
    bind(m: WebAssembly.Memory) {
      memory = m;
    },
  };
}

/** Names of every preview1 function this implementation provides. */
export const WASI_FUNCTIONS: ReadonlySet<string> = new Set(
  Object.keys(createWasi({ stderr: () => undefined }).imports),
);
