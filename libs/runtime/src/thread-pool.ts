/**
 * The runtime's worker threads. Each thread runs one plugin call at a time (a guest blocked in a host
 * call blocks its thread), so the pool grows on demand up to `max` threads and shrinks back to `min`
 * when threads sit idle. A call past its deadline gets its thread terminated and replaced: that is
 * the only way to stop a guest that never returns.
 *
 * Threads are shared by every plugin, so the pool is the second bulkhead: one plugin holds at most
 * `maxThreadsPerPlugin` threads (its other calls wait in the queue while calls of other plugins
 * pass them), and a plugin with work queued and no thread at all gets a new one (up to
 * `maxThreads`) even when the busy threads are CPU-bound, so a looping plugin delays the others
 * by a time slice, never by its deadline.
 */
import { CallError, CallErrorCode, type Capability } from "@tonearm/abi";
import { Worker, type MessagePort } from "node:worker_threads";
import { createBridgeChannel, serveBridge, type HostRequest, type HostReply } from "./bridge.js";
import type { FromThread, ThreadInit, ThreadLimits, ThreadPlugin, ToThread } from "./thread-protocol.js";
import { postable } from "./transfer.js";

export interface HostCall extends HostRequest {
  /** Aborted when the plugin call the host call belongs to times out or is cancelled. */
  readonly signal: AbortSignal;
}

export type HostHandler = (call: HostCall) => Uint8Array | Promise<Uint8Array>;

export interface ThreadPoolOptions {
  readonly minThreads: number;
  readonly maxThreads: number;
  /** Threads one plugin (all its versions) may hold at once. */
  readonly maxThreadsPerPlugin: number;
  readonly threadIdleTtlMs: number;
  readonly limits: ThreadLimits;
  readonly threadHost?: ThreadInit["threadHost"];
  readonly handleHostCall: HostHandler;
  readonly onPluginLog: (pluginId: string, line: string) => void;
}

export type ThreadWork =
  | { readonly type: "call"; readonly capability: Capability; readonly exportName: string; readonly request: Uint8Array }
  | { readonly type: "warm" };

export interface ThreadTask {
  readonly plugin: ThreadPlugin;
  readonly work: ThreadWork;
  /** Epoch milliseconds after which the task fails with `timeout`. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
}

interface PendingTask extends ThreadTask {
  readonly id: number;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  /** Aborts the task's host calls; made by the first host call, as most calls make none. */
  controller?: AbortController;
  timer?: NodeJS.Timeout;
  thread?: PoolThread;
  settled: boolean;
}

interface PoolThread {
  readonly worker: Worker;
  readonly bridgePort: MessagePort;
  readonly loaded: Set<string>;
  readonly lastUsed: Map<string, number>;
  ready: boolean;
  running?: PendingTask;
  /** The running guest is blocked in a host call (its thread waits on I/O, not on the CPU). */
  inHostCall: boolean;
  idleSince: number;
  terminating: boolean;
}

export interface ThreadPoolStats {
  readonly threads: number;
  readonly busy: number;
  readonly queued: number;
  readonly replaced: number;
  /** Threads running a task of each plugin; plugins holding none are left out. */
  readonly threadsByPlugin: Readonly<Record<string, number>>;
}

const THREAD_ENTRY = new URL("./thread.js", import.meta.url);

export class ThreadPool {
  readonly #options: ThreadPoolOptions;
  readonly #threads = new Set<PoolThread>();
  readonly #queue: PendingTask[] = [];
  /** Threads running a task, by plugin id. */
  readonly #threadsOfPlugin = new Map<string, number>();
  #nextId = 1;
  #spawning = 0;
  #replaced = 0;
  #closed = false;
  readonly #reaper: NodeJS.Timeout;

  constructor(options: ThreadPoolOptions) {
    this.#options = options;
    for (let i = 0; i < options.minThreads; i++) this.#spawn();
    this.#reaper = setInterval(() => this.#reapIdle(), Math.max(50, Math.floor(options.threadIdleTtlMs / 2)));
    this.#reaper.unref();
  }

  stats(): ThreadPoolStats {
    let busy = 0;
    for (const t of this.#threads) if (t.running) busy++;
    return { threads: this.#threads.size, busy, queued: this.#queue.length, replaced: this.#replaced, threadsByPlugin: Object.fromEntries(this.#threadsOfPlugin) };
  }

  /** Runs work on some thread; resolves with the response bytes or rejects with a CallError. */
  run(task: ThreadTask): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new CallError(CallErrorCode.Unavailable, "runtime is closed"));
    return new Promise((resolve, reject) => {
      const pending: PendingTask = { ...task, id: this.#nextId++, resolve, reject, settled: false };
      const remaining = task.deadline - Date.now();
      if (remaining <= 0) {
        reject(new CallError(CallErrorCode.Timeout, "call deadline exceeded before it started"));
        return;
      }
      pending.timer = setTimeout(() => this.#expire(pending), remaining);
      task.signal?.addEventListener("abort", () => this.#cancel(pending), { once: true });
      this.#queue.push(pending);
      this.#pump();
    });
  }

  /** Forgets a plugin version in every thread (its idle instances are dropped). */
  unload(key: string): void {
    for (const t of this.#threads) {
      if (t.loaded.delete(key)) {
        t.lastUsed.delete(key);
        this.#post(t, { type: "unload", key });
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reaper);
    for (const task of this.#queue.splice(0)) this.#settle(task, new CallError(CallErrorCode.Unavailable, "runtime is closed"));
    await Promise.all([...this.#threads].map((t) => this.#terminate(t)));
  }

  #spawn(): void {
    const channel = createBridgeChannel();
    const init: ThreadInit = {
      bridgePort: channel.thread.port,
      bridgeShared: channel.thread.shared,
      limits: this.#options.limits,
      ...(this.#options.threadHost ? { threadHost: this.#options.threadHost } : {}),
    };
    const worker = new Worker(THREAD_ENTRY, { workerData: init, transferList: [channel.thread.port] });
    const thread: PoolThread = { worker, bridgePort: channel.main.port, loaded: new Set(), lastUsed: new Map(), ready: false, inHostCall: false, idleSince: Date.now(), terminating: false };
    this.#threads.add(thread);
    this.#spawning++;
    serveBridge(channel.main, (req) => this.#hostCall(thread, req));
    worker.on("message", (msg: FromThread) => this.#onMessage(thread, msg));
    worker.on("error", (err) => this.#onThreadDeath(thread, `worker thread crashed: ${err.message}`));
    worker.on("exit", (code) => this.#onThreadDeath(thread, `worker thread exited with code ${code}`));
    // Threads never keep the process alive by themselves; a pending task's deadline timer does.
    worker.unref();
    channel.main.port.unref();
  }

  async #hostCall(thread: PoolThread, req: HostRequest): Promise<HostReply> {
    const task = thread.running;
    // A task already settled (cancelled while running) has its host calls aborted at once.
    const signal = task === undefined || task.settled ? AbortSignal.abort() : (task.controller ??= new AbortController()).signal;
    thread.inHostCall = true;
    this.#pump();
    try {
      const response = await this.#options.handleHostCall({ ...req, signal });
      return { ok: true, response };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    } finally {
      thread.inHostCall = false;
    }
  }

  #onMessage(thread: PoolThread, msg: FromThread): void {
    switch (msg.type) {
      case "ready":
        thread.ready = true;
        this.#spawning--;
        this.#pump();
        return;
      case "log":
        this.#options.onPluginLog(msg.pluginId, msg.line);
        return;
      case "result": {
        const task = thread.running;
        if (!task || task.id !== msg.id) return;
        this.#setRunning(thread, undefined);
        thread.idleSince = Date.now();
        if (msg.ok) this.#settle(task, undefined, msg.bytes);
        else if (msg.pluginError !== undefined) this.#settle(task, CallError.fromPluginError(msg.pluginError));
        else this.#settle(task, new CallError(msg.failure?.code ?? CallErrorCode.PluginError, msg.failure?.message ?? "unknown failure"));
        this.#pump();
        return;
      }
    }
  }

  #onThreadDeath(thread: PoolThread, reason: string): void {
    thread.bridgePort.close();
    if (!this.#threads.delete(thread)) return;
    if (!thread.ready) this.#spawning--;
    const task = thread.running;
    this.#setRunning(thread, undefined);
    if (task) this.#settle(task, new CallError(CallErrorCode.Unavailable, reason));
    if (!thread.terminating) this.#replace();
    this.#pump();
  }

  #replace(): void {
    if (this.#closed) return;
    this.#replaced++;
    if (this.#threads.size < this.#options.minThreads) this.#spawn();
  }

  /**
   * Dispatches queued tasks in order, passing over those whose plugin holds its share of threads,
   * and starts threads for what is left when that helps.
   */
  #pump(): void {
    if (this.#closed) return;
    let waiting = 0;
    const starved = new Set<string>();
    for (let i = 0; i < this.#queue.length; ) {
      const task = this.#queue[i]!;
      const held = this.#threadsOfPlugin.get(task.plugin.pluginId) ?? 0;
      if (held >= this.#options.maxThreadsPerPlugin) {
        i++;
        continue;
      }
      const thread = waiting === 0 ? this.#pickThread(task.plugin.key) : undefined;
      if (!thread) {
        waiting++;
        if (held === 0) starved.add(task.plugin.pluginId);
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#dispatch(thread, task);
    }
    // More threads help while guests wait on host I/O, and give a plugin without any thread its
    // turn next to CPU-bound ones; otherwise work just queues.
    const wanted = Math.min(waiting, this.#blockedInHost() + starved.size);
    while (this.#spawning < wanted && this.#threads.size < this.#options.maxThreads) this.#spawn();
  }

  /** A free thread, preferring one that recently ran this plugin version (warm instances). */
  #pickThread(key: string): PoolThread | undefined {
    let best: PoolThread | undefined;
    let bestScore = -1;
    for (const t of this.#threads) {
      if (!t.ready || t.running || t.terminating) continue;
      const score = t.lastUsed.get(key) ?? 0;
      if (score > bestScore) {
        best = t;
        bestScore = score;
      }
    }
    return best;
  }

  #dispatch(thread: PoolThread, task: PendingTask): void {
    this.#setRunning(thread, task);
    task.thread = thread;
    const key = task.plugin.key;
    const plugin = thread.loaded.has(key) ? undefined : task.plugin;
    thread.loaded.add(key);
    thread.lastUsed.set(key, Date.now());
    if (task.work.type === "call") {
      const request = postable(task.work.request);
      const msg: ToThread = { type: "call", id: task.id, key, ...(plugin ? { plugin } : {}), capability: task.work.capability, exportName: task.work.exportName, request: request.bytes };
      this.#post(thread, msg, request.transfer);
    } else {
      this.#post(thread, { type: "warm", id: task.id, key, ...(plugin ? { plugin } : {}) });
    }
  }

  /** Sets or clears the task a thread runs, keeping the per-plugin thread counts. */
  #setRunning(thread: PoolThread, task: PendingTask | undefined): void {
    const previous = thread.running;
    if (previous === task) return;
    if (previous) {
      const id = previous.plugin.pluginId;
      const held = (this.#threadsOfPlugin.get(id) ?? 1) - 1;
      if (held > 0) this.#threadsOfPlugin.set(id, held);
      else this.#threadsOfPlugin.delete(id);
    }
    if (task) this.#threadsOfPlugin.set(task.plugin.pluginId, (this.#threadsOfPlugin.get(task.plugin.pluginId) ?? 0) + 1);
    thread.running = task;
  }

  #post(thread: PoolThread, msg: ToThread, transfer: ArrayBuffer[] = []): void {
    thread.worker.postMessage(msg, transfer);
  }

  #expire(task: PendingTask): void {
    if (task.settled) return;
    const thread = task.thread;
    this.#settle(task, new CallError(CallErrorCode.Timeout, "plugin call exceeded its deadline"));
    if (thread && thread.running === task) {
      // The guest may never return: the thread is the only thing we can stop.
      this.#setRunning(thread, undefined);
      void this.#terminate(thread).then(() => this.#replace());
    } else {
      this.#dequeue(task);
    }
  }

  #cancel(task: PendingTask): void {
    if (task.settled) return;
    this.#dequeue(task);
    this.#settle(task, new CallError(CallErrorCode.Unavailable, "call cancelled"));
  }

  #dequeue(task: PendingTask): void {
    const i = this.#queue.indexOf(task);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #settle(task: PendingTask, err: Error | undefined, bytes?: Uint8Array): void {
    if (task.settled) return;
    task.settled = true;
    clearTimeout(task.timer);
    if (err) {
      task.controller?.abort(err);
      task.reject(err);
    } else task.resolve(bytes ?? new Uint8Array(0));
  }

  async #terminate(thread: PoolThread): Promise<void> {
    thread.terminating = true;
    this.#threads.delete(thread);
    if (!thread.ready) this.#spawning--;
    thread.bridgePort.close();
    await thread.worker.terminate();
  }

  #blockedInHost(): number {
    let n = 0;
    for (const t of this.#threads) if (t.inHostCall) n++;
    return n;
  }

  #reapIdle(): void {
    const now = Date.now();
    for (const t of this.#threads) {
      if (this.#threads.size <= this.#options.minThreads) return;
      if (t.ready && !t.running && now - t.idleSince > this.#options.threadIdleTtlMs) void this.#terminate(t);
    }
  }
}
