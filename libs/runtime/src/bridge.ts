/**
 * The synchronous host-call bridge. Host imports are synchronous to the guest, but the host's I/O
 * lives on the process's event loop. A thread posts the request on a dedicated port and blocks in
 * `Atomics.wait`; the main thread answers on the same port, then flips a flag in shared memory and
 * wakes it; the thread takes the answer with `receiveMessageOnPort`, which needs no event loop.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { transferable } from "./transfer.js";

export interface HostRequest {
  /** The runtime's id of the plugin call this host call belongs to. */
  readonly callId: number;
  readonly pluginId: string;
  /** The `env` import name, e.g. `get`. */
  readonly name: string;
  readonly request: Uint8Array;
}

export type HostReply = { readonly ok: true; readonly response: Uint8Array } | { readonly ok: false; readonly message: string };

const IDLE = 0;
const ANSWERED = 1;

/** The two ends of one thread's bridge; `thread` is transferred to the worker at start-up. */
export interface BridgeChannel {
  readonly main: { readonly port: MessagePort; readonly flag: Int32Array };
  readonly thread: { readonly port: MessagePort; readonly flag: SharedArrayBuffer };
}

export function createBridgeChannel(): BridgeChannel {
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  return { main: { port: port1, flag: new Int32Array(flag) }, thread: { port: port2, flag } };
}

export class BridgeUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BridgeUnavailableError";
  }
}

/** Thread side: blocks the calling thread until the main thread has answered. */
export class BridgeClient {
  readonly #port: MessagePort;
  readonly #flag: Int32Array;

  constructor(port: MessagePort, flag: SharedArrayBuffer) {
    this.#port = port;
    this.#flag = new Int32Array(flag);
  }

  call(req: HostRequest): Uint8Array {
    Atomics.store(this.#flag, 0, IDLE);
    this.#port.postMessage(req);
    Atomics.wait(this.#flag, 0, IDLE);
    const received = receiveMessageOnPort(this.#port);
    if (!received) throw new BridgeUnavailableError("host call bridge woke without an answer");
    const reply: HostReply = received.message as HostReply;
    if (!reply.ok) throw new HostCallFailed(req.name, reply.message);
    return reply.response;
  }
}

/** A host function failed; thrown inside the import so the guest call traps, as in Navidrome. */
export class HostCallFailed extends Error {
  readonly importName: string;

  constructor(importName: string, message: string) {
    super(`host function env.${importName} failed: ${message}`);
    this.name = "HostCallFailed";
    this.importName = importName;
  }
}

/** Main side: answers each request of one thread with `handle`, in arrival order of completion. */
export function serveBridge(
  channel: BridgeChannel["main"],
  handle: (req: HostRequest) => Promise<HostReply>,
): void {
  channel.port.on("message", (req: HostRequest) => {
    void handle(req).then((reply) => {
      channel.port.postMessage(reply, reply.ok ? transferable(reply.response) : []);
      Atomics.store(channel.flag, 0, ANSWERED);
      Atomics.notify(channel.flag, 0);
    });
  });
}
