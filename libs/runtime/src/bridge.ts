/**
 * The synchronous host-call bridge. Host imports are synchronous to the guest, but the host's I/O
 * lives on the process's event loop. A thread posts the request on a dedicated port and blocks in
 * `Atomics.wait`; the main thread writes the answer into memory shared with that thread, then
 * flips a flag there and wakes it. An answer too large for the shared area, or a failure, goes on
 * the port instead, and the thread takes it with `receiveMessageOnPort`, which needs no event
 * loop. The shared area spares a message per host call: its serialisation, and a wake-up of the
 * thread's event loop for a port nobody listens on.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { postable } from "./transfer.js";

export interface HostRequest {
  /** The runtime's id of the plugin call this host call belongs to. */
  readonly callId: number;
  readonly pluginId: string;
  /** The `env` import name, e.g. `get`. */
  readonly name: string;
  readonly request: Uint8Array;
}

export type HostReply = { readonly ok: true; readonly response: Uint8Array } | { readonly ok: false; readonly message: string };

/** Values of the state word: waiting, answered on the port, answered in the shared area. */
const IDLE = 0;
const ANSWERED = 1;
const ANSWERED_SHARED = 2;

/** Shared area: the state word, the answer's length, then its bytes. */
const STATE = 0;
const LENGTH = 1;
const HEADER_BYTES = 8;
/** Answers up to this size (most are a few hundred bytes) skip the port. */
export const SHARED_ANSWER_BYTES = 64 * 1024;

/** The two ends of one thread's bridge; `thread` is transferred to the worker at start-up. */
export interface BridgeChannel {
  readonly main: { readonly port: MessagePort; readonly shared: SharedArrayBuffer };
  readonly thread: { readonly port: MessagePort; readonly shared: SharedArrayBuffer };
}

export function createBridgeChannel(): BridgeChannel {
  const { port1, port2 } = new MessageChannel();
  const shared = new SharedArrayBuffer(HEADER_BYTES + SHARED_ANSWER_BYTES);
  return { main: { port: port1, shared }, thread: { port: port2, shared } };
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
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;

  constructor(port: MessagePort, shared: SharedArrayBuffer) {
    this.#port = port;
    this.#words = new Int32Array(shared, 0, 2);
    this.#bytes = new Uint8Array(shared, HEADER_BYTES);
  }

  call(req: HostRequest): Uint8Array {
    Atomics.store(this.#words, STATE, IDLE);
    // The request bytes were copied out of guest memory for this call alone: given up.
    const request = postable(req.request, true);
    this.#port.postMessage({ ...req, request: request.bytes } satisfies HostRequest, request.transfer);
    Atomics.wait(this.#words, STATE, IDLE);
    if (Atomics.load(this.#words, STATE) === ANSWERED_SHARED) return this.#bytes.slice(0, Atomics.load(this.#words, LENGTH));
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
  const words = new Int32Array(channel.shared, 0, 2);
  const bytes = new Uint8Array(channel.shared, HEADER_BYTES);
  channel.port.on("message", (req: HostRequest) => {
    void handle(req).then((reply) => {
      let state = ANSWERED;
      if (reply.ok && reply.response.byteLength <= bytes.byteLength) {
        // The thread is blocked until the state word changes, so nothing else uses the area now.
        bytes.set(reply.response);
        Atomics.store(words, LENGTH, reply.response.byteLength);
        state = ANSWERED_SHARED;
      } else if (reply.ok) {
        const response = postable(reply.response, true);
        channel.port.postMessage({ ok: true, response: response.bytes } satisfies HostReply, response.transfer);
      } else {
        channel.port.postMessage(reply);
      }
      Atomics.store(words, STATE, state);
      Atomics.notify(words, STATE);
    });
  });
}
