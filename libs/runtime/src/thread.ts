/**
 * Worker-thread entry. Executes plugin calls one at a time, keeping instances of each plugin version
 * warm between calls. Host imports the thread cannot answer itself block on the bridge while the
 * main thread does the I/O.
 */
import { CallError, CallErrorCode } from "@tonearm/abi";
import { parentPort, workerData } from "node:worker_threads";
import { BridgeClient } from "./bridge.js";
import { PluginInstance, describeFault, type HostDispatch } from "./instance.js";
import type { FromThread, ThreadHost, ThreadHostFactory, ThreadInit, ThreadPlugin, ToThread } from "./thread-protocol.js";
import { IdleInstances } from "./thread-pool-local.js";
import { transferable } from "./transfer.js";

const init = workerData as ThreadInit;
const port = parentPort!;
const bridge = new BridgeClient(init.bridgePort, init.bridgeShared);
const threadHost: ThreadHost | undefined = init.threadHost
  ? await ((await import(init.threadHost.specifier)) as { default: ThreadHostFactory }).default(init.threadHost.data)
  : undefined;

interface LoadedVersion {
  readonly plugin: ThreadPlugin;
  readonly idle: IdleInstances;
  readonly stderr: StderrLines;
}

const versions = new Map<string, LoadedVersion>();
let currentCallId = 0;

/** Splits a plugin's stderr into lines; each becomes one log record tagged with the plugin id. */
class StderrLines {
  readonly #decoder = new TextDecoder();
  #pending = "";
  readonly #pluginId: string;

  constructor(pluginId: string) {
    this.#pluginId = pluginId;
  }

  write(chunk: Uint8Array): void {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.#pending.indexOf("\n")) >= 0) {
      this.#emit(this.#pending.slice(0, nl));
      this.#pending = this.#pending.slice(nl + 1);
    }
    if (this.#pending.length > 16_384) this.flush(); // a plugin that never ends its line
  }

  flush(): void {
    if (this.#pending.length > 0) this.#emit(this.#pending);
    this.#pending = "";
  }

  #emit(line: string): void {
    post({ type: "log", pluginId: this.#pluginId, line: line.replace(/\r$/, "") });
  }
}

function post(msg: FromThread, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function version(key: string, plugin: ThreadPlugin | undefined): LoadedVersion {
  let v = versions.get(key);
  if (!v) {
    if (!plugin) throw new CallError(CallErrorCode.Unavailable, `plugin version ${key} is not loaded in this thread`);
    v = { plugin, idle: new IdleInstances(init.limits.maxIdle, init.limits.idleTtlMs), stderr: new StderrLines(plugin.pluginId) };
    versions.set(key, v);
  }
  return v;
}

function dispatcherFor(plugin: ThreadPlugin): HostDispatch {
  return (name, request) => {
    if (threadHost?.names.has(name)) return threadHost.call(plugin, name, request);
    return bridge.call({ callId: currentCallId, pluginId: plugin.pluginId, name, request });
  };
}

function instanceOf(v: LoadedVersion): PluginInstance {
  return (
    v.idle.take() ??
    PluginInstance.create(v.plugin.module, {
      pluginId: v.plugin.pluginId,
      linkedEnv: v.plugin.linkedEnv,
      dispatch: dispatcherFor(v.plugin),
      onStderr: (chunk) => v.stderr.write(chunk),
      maxResultSize: init.limits.maxResultSize,
    })
  );
}

function failure(err: unknown): { code: CallErrorCode; message: string } {
  if (err instanceof CallError) return { code: err.code, message: err.message };
  return { code: CallErrorCode.PluginError, message: describeFault(err) };
}

/** Runs one unit of work for a plugin version and posts its result; failures become data. */
function respond(id: number, key: string, plugin: ThreadPlugin | undefined, work: (v: LoadedVersion) => Uint8Array | string): void {
  currentCallId = id;
  let v: LoadedVersion | undefined;
  try {
    v = version(key, plugin);
    const out = work(v);
    if (typeof out === "string") post({ type: "result", id, ok: false, pluginError: out, idle: v.idle.size });
    else post({ type: "result", id, ok: true, bytes: out, idle: v.idle.size }, transferable(out));
  } catch (err) {
    post({ type: "result", id, ok: false, failure: failure(err), idle: v?.idle.size ?? 0 });
  } finally {
    v?.stderr.flush();
  }
}

function runCall(msg: Extract<ToThread, { type: "call" }>): void {
  respond(msg.id, msg.key, msg.plugin, (v) => {
    const instance = instanceOf(v);
    instance.verify(msg.capability);
    const result = instance.call(msg.exportName, msg.request);
    v.idle.put(instance, Date.now());
    return result.ok ? result.bytes : result.error;
  });
}

/** Creates an instance and checks every declared capability, so a broken plugin fails at load. */
function runWarm(msg: Extract<ToThread, { type: "warm" }>): void {
  respond(msg.id, msg.key, msg.plugin, (v) => {
    const instance = instanceOf(v);
    for (const cap of v.plugin.capabilities) instance.verify(cap);
    v.idle.put(instance, Date.now());
    return new Uint8Array(0);
  });
}

port.on("message", (msg: ToThread) => {
  switch (msg.type) {
    case "call":
      runCall(msg);
      break;
    case "warm":
      runWarm(msg);
      break;
    case "unload":
      versions.get(msg.key)?.idle.clear();
      versions.delete(msg.key);
      break;
  }
});

setInterval(() => {
  const now = Date.now();
  for (const v of versions.values()) v.idle.sweep(now);
}, Math.max(10, Math.floor(init.limits.idleTtlMs / 3))).unref();

post({ type: "ready" });
