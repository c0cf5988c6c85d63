// Runs one example plugin the way Tonearm's embedded mode does: the real runtime (worker threads,
// instance pools) and the real host services on in-memory drivers, WebSocket events delivered back
// to the plugin's WebSocketCallback. Builds the example first when its sources changed.
import { readFile } from "node:fs/promises";
import type { JsonValue } from "@bufbuild/protobuf";
import {
  createLocalWebSocketGateway,
  createMemoryCacheStore,
  createMemoryScheduleStore,
  createPluginHost,
  websocketCallbackCall,
  type MemoryCacheStore,
  type ScheduleStore,
} from "@tonearm/host";
import { parseManifest } from "@tonearm/manifest";
import { invokeJson, Runtime } from "@tonearm/runtime";
import { buildExamples, EXAMPLES_BUILD_DIR } from "../../scripts/build-examples.mjs";

/** A manifest as JSON, to adjust before loading. */
export interface ManifestJson {
  name: string;
  permissions: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export interface ExampleHostOptions {
  /** The plugin's `[PluginConfig.<name>]` table (keys lower-case, as the host hands them over). */
  readonly config?: Readonly<Record<string, string>>;
  /** Changes the built manifest before loading, e.g. to let the plugin reach a loopback server. */
  readonly adjustManifest?: (manifest: ManifestJson) => void;
}

export interface ExampleHost {
  readonly pluginId: string;
  readonly runtime: Runtime;
  readonly cache: MemoryCacheStore;
  readonly schedules: ScheduleStore;
  /** What the plugin wrote to stderr, a line per entry. */
  readonly logs: string[];
  /** WebSocket callbacks the plugin failed, as `<method>: <message>`. */
  readonly callbackFailures: string[];
  /** Calls `<Capability>/<Method>` with a protobuf-JSON request; resolves with the response as protobuf JSON. */
  call(method: string, request?: JsonValue): Promise<JsonValue>;
  close(): Promise<void>;
}

/** The built manifest of an example, as JSON. */
export async function builtManifest(name: string): Promise<ManifestJson> {
  return JSON.parse(await readFile(`${EXAMPLES_BUILD_DIR}${name}/manifest.json`, "utf8")) as ManifestJson;
}

export async function startExample(name: string, options: ExampleHostOptions = {}): Promise<ExampleHost> {
  await buildExamples({ only: [name], quiet: true });
  const manifestJson = await builtManifest(name);
  options.adjustManifest?.(manifestJson);
  const manifest = parseManifest(JSON.stringify(manifestJson));
  const config = { ...options.config };

  const logs: string[] = [];
  const callbackFailures: string[] = [];
  const cache = createMemoryCacheStore();
  const schedules = createMemoryScheduleStore();
  const gateway = createLocalWebSocketGateway({
    onEvent(event) {
      const callback = websocketCallbackCall(event);
      runtime
        .call(callback.pluginId, callback.capability, callback.method, callback.request)
        .catch((err: unknown) => callbackFailures.push(`${callback.method}: ${(err as Error).message}`));
    },
  });
  const runtime: Runtime = Runtime.create({
    threads: { min: 1, max: 2 },
    onPluginLog: (_plugin, line) => logs.push(line),
    host: createPluginHost(
      { lookup: (id) => (id === name ? { manifest, config } : undefined) },
      {
        http: { timeoutMs: 5_000, maxResponseBytes: 1024 * 1024 },
        artwork: { secret: "example-secret", shareUrl: "", baseUrl: "" },
        subsonic: {},
      },
      { cache, schedules, websocket: gateway },
    ),
  });
  await runtime.load({ id: name, manifest, wasm: new Uint8Array(await readFile(`${EXAMPLES_BUILD_DIR}${name}/plugin.wasm`)), config });

  return {
    pluginId: name,
    runtime,
    cache,
    schedules,
    logs,
    callbackFailures,
    call(method, request = {}) {
      const [capability = "", methodName = ""] = method.split("/");
      return invokeJson(runtime, name, capability, methodName, request);
    },
    async close() {
      gateway.closeAll();
      await runtime.close();
      await cache.close();
    },
  };
}
