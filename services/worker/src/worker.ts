/**
 * A worker: serves plugin calls (`tonearm.<ns>.call.<plugin>.<Capability>.<Method>`), agent
 * orchestration (`agents.<Method>`) and plugin verification for the registry, all in one queue
 * group so any number of workers share the load. Plugins load lazily from the object store and stay
 * warm; host services run here, in this process.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { CallError, CallErrorCode, findMethod } from "@tonearm/abi";
import {

  PluginState,
  decodeCallRequest,
  decodeToken,
  encodeCallError,
  encodeCallReply,
  storageNames,
  subjects,
  watchPluginCatalog,
  workerVerifySubject,
  type Bus,
  type BusMessage,
  type PluginCatalog,
  type PluginRecord,
  type Subscription,
  type WireMessage,
} from "@tonearm/bus";
import { createPluginHost, type HostDrivers, type HostSettings, type PluginDirectory } from "@tonearm/host";
import { bus as busProto } from "@tonearm/proto";
import { Runtime, type RuntimeOptions, type RuntimeStats } from "@tonearm/runtime";
import { recordPluginCall, type Logger, type Metrics } from "@tonearm/telemetry";
import { askAgents } from "./agents.js";
import { PluginLoader } from "./plugin-loader.js";

export interface WorkerOptions {
  readonly bus: Bus;
  readonly namespace: string;
  readonly runtimeOptions?: Omit<RuntimeOptions, "host" | "onPluginLog" | "onCallComplete">;
  readonly hostSettings: HostSettings;
  readonly hostDrivers: HostDrivers;
  /** Navidrome's `Agents`: the MetadataAgent plugins asked by `agents.<Method>`, in order. */
  readonly agents?: readonly string[];
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** @default "workers" */
  readonly queue?: string;
}

export interface Worker {
  start(): Promise<void>;
  /** Stops taking calls, lets calls in flight finish, then closes the runtime. Idempotent. */
  drain(): Promise<void>;
  stats(): RuntimeStats;
}

/** Header naming the plugin that answered an agents request. */
export const AGENT_HEADER = "Tonearm-Agent";
const REGISTRY_CALLER = "registry";

export function createWorker(options: WorkerOptions): Worker {
  const { bus, namespace, logger, metrics } = options;
  const names = subjects(namespace);
  const queue = options.queue ?? "workers";
  const catalog: PluginCatalog = watchPluginCatalog(bus, namespace, logger ? { logger } : {});
  const directory: PluginDirectory = {
    lookup(pluginId) {
      const status = runtime.status(pluginId);
      if (status?.state !== "ready") return undefined;
      return { manifest: status.plugin.manifest, config: catalog.get(pluginId)?.config ?? {} };
    },
  };
  const runtime = Runtime.create({
    ...options.runtimeOptions,
    host: createPluginHost(directory, options.hostSettings, options.hostDrivers),
    onPluginLog: (plugin, line) => logger?.info({ plugin }, line),
    ...(metrics ? { onCallComplete: (event) => recordPluginCall(metrics, event) } : {}),
  });
  let loader: PluginLoader | undefined;
  const subscriptions: Subscription[] = [];
  let draining: Promise<void> | undefined;

  const reply = (message: BusMessage, wire: WireMessage): void => {
    bus.respond(message, wire.data, { headers: wire.headers });
  };
  const replyError = (message: BusMessage, err: unknown): void => {
    const error = err instanceof CallError ? err : new CallError(CallErrorCode.PluginError, (err as Error).message ?? String(err));
    reply(message, encodeCallError(error));
  };

  /** The record of a plugin a caller may use now, or the CallError that explains why not. */
  function callable(pluginId: string, allowLoading: boolean): PluginRecord {
    const record = catalog.get(pluginId);
    if (!record || record.state === PluginState.REMOVED) throw new CallError(CallErrorCode.NotFound, `plugin not found: ${pluginId}`);
    switch (record.state) {
      case PluginState.READY:
        return record;
      case PluginState.LOADING:
        if (allowLoading) return record;
        throw new CallError(CallErrorCode.Unavailable, `plugin ${pluginId} is loading`);
      case PluginState.FAILED:
        throw new CallError(CallErrorCode.LoadError, record.error || `plugin ${pluginId} failed to load`);
      case PluginState.DISABLED:
        throw new CallError(CallErrorCode.Unavailable, `plugin ${pluginId} is disabled`);
      default:
        throw new CallError(CallErrorCode.Unavailable, `plugin ${pluginId} is not ready`);
    }
  }

  function capabilities(record: PluginRecord): readonly string[] {
    try {
      const caps = (JSON.parse(record.manifestJson) as { capabilities?: unknown }).capabilities;
      return Array.isArray(caps) ? (caps as string[]) : [];
    } catch {
      return [];
    }
  }

  async function runCall(record: PluginRecord, capability: string, method: string, request: Uint8Array, deadlineMs?: number): Promise<Uint8Array> {
    const remaining = deadlineMs === undefined ? undefined : deadlineMs - Date.now();
    if (remaining !== undefined && remaining <= 0) throw new CallError(CallErrorCode.Timeout, "the call's deadline passed before a worker took it");
    await loader!.ensure(record);
    return runtime.call(record.id, capability, method, request, remaining === undefined ? {} : { timeoutMs: remaining });
  }

  async function onCall(message: BusMessage): Promise<void> {
    try {
      const target = names.parseCall(message.subject);
      if (!target) throw new CallError(CallErrorCode.BadRequest, `not a call subject: ${message.subject}`);
      const m = findMethod(target.capability, target.method);
      if (!m) throw new CallError(CallErrorCode.BadRequest, `unknown method ${target.capability}/${target.method}`);
      const call = decodeCallRequest(message, m.input);
      const isInit = m.capability === "LifecycleManagement" && target.method === "OnInit" && call.caller === REGISTRY_CALLER;
      const record = callable(target.plugin, isInit);
      if (!capabilities(record).includes(m.capability)) {
        throw new CallError(CallErrorCode.NotImplemented, `plugin ${record.id} does not declare the ${m.capability} capability`);
      }
      const response = await runCall(record, m.capability, target.method, call.request, call.deadlineMs);
      reply(message, encodeCallReply(response, call.contentType, m.output));
    } catch (err) {
      replyError(message, err);
    }
  }

  async function onAgents(message: BusMessage): Promise<void> {
    try {
      const method = decodeToken(message.subject.slice(names.allAgents.length - 1));
      const m = findMethod("MetadataAgent", method);
      if (!m) throw new CallError(CallErrorCode.BadRequest, `unknown agents method ${method}`);
      const call = decodeCallRequest(message, m.input);
      const candidates = (options.agents ?? []).filter((id) => {
        const record = catalog.get(id);
        return record?.state === PluginState.READY && capabilities(record).includes("MetadataAgent");
      });
      const answer = await askAgents(method, call.request, candidates, (id, name, request) =>
        runCall(callable(id, false), "MetadataAgent", name, request, call.deadlineMs),
      );
      const wire = encodeCallReply(answer.response, call.contentType, m.output);
      reply(message, { data: wire.data, headers: { ...wire.headers, ...(answer.agent ? { [AGENT_HEADER]: answer.agent } : {}) } });
    } catch (err) {
      replyError(message, err);
    }
  }

  async function onVerify(message: BusMessage): Promise<void> {
    try {
      const record = fromBinary(busProto.PluginRecordSchema, message.data);
      await loader!.ensure(record);
      reply(message, { data: new Uint8Array(), headers: {} });
    } catch (err) {
      replyError(message, err);
    }
  }

  return {
    async start() {
      loader = new PluginLoader(runtime, await bus.objects(storageNames(namespace).artifactsStore));
      await catalog.ready;
      catalog.onChange((record) => loader!.follow(record, (err) => logger?.warn({ plugin: record.id, err: err.message }, "loading a new version failed")));
      subscriptions.push(
        bus.subscribe(names.allCalls, { queue }, onCall),
        bus.subscribe(names.allAgents, { queue }, onAgents),
        bus.subscribe(workerVerifySubject(namespace), { queue }, onVerify),
      );
      logger?.info({ namespace, queue }, "worker serving");
    },
    drain() {
      draining ??= (async () => {
        await Promise.all(subscriptions.map((s) => s.drain()));
        catalog.close();
        await runtime.close();
      })();
      return draining;
    },
    stats: () => runtime.stats(),
  };
}


