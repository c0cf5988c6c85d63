/**
 * Runs one plugin the way Tonearm's embedded mode does (the real runtime with its worker threads
 * and instance pools, the real host services) with fakes where a test needs control: canned HTTP
 * answers, a fresh in-memory cache, a config the test sets, and schedules that are recorded rather
 * than fired. WebSocket connections are real and their events reach the plugin's WebSocketCallback.
 */
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { JsonValue } from "@bufbuild/protobuf";
import { CallError, CallErrorCode } from "@tonearm/abi";
import {
  createCacheFunctions,
  createHost,
  createHttpFunctions,
  createLocalWebSocketGateway,
  createMemoryScheduleStore,
  createSchedulerFunctions,
  createSubsonicFunctions,
  createWebSocketFunctions,
  websocketCallbackCall,
  type SubsonicSettings,
} from "@tonearm/host";
import { MANIFEST_FILE, parseManifest, type PluginManifest } from "@tonearm/manifest";
import { initializePlugin, invokeJson, Runtime } from "@tonearm/runtime";
import { CannedHttp } from "./canned-http.js";
import { RecordingCacheStore, recordedSchedules, type PluginCache, type RecordedSchedules } from "./plugin-state.js";

/** A manifest as JSON, for `adjustManifest` to change before the plugin loads. */
export interface ManifestJson {
  name: string;
  capabilities: string[];
  permissions: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** A plugin to run: a built plugin folder (`plugin.wasm` + `manifest.json`), or its two parts. */
export type PluginSource = string | { readonly wasm: Uint8Array; readonly manifest: ManifestJson };

export interface StartPluginOptions {
  /** The plugin id (Navidrome's folder name). @default the folder's name, else the manifest's name */
  readonly id?: string;
  /** The plugin's `[PluginConfig.<id>]` as the host hands it over: keys lower-case, values strings. */
  readonly config?: Readonly<Record<string, string>>;
  /**
   * Answers the plugin's HTTP requests. `"network"` sends them for real (loopback servers need
   * `allowLocalNetwork` in the manifest, see `adjustManifest`).
   * @default a CannedHttp without routes: every request fails with "no canned answer"
   */
  readonly http?: CannedHttp | "network";
  /** Changes the manifest before loading, e.g. to let the plugin reach a loopback server. */
  readonly adjustManifest?: (manifest: ManifestJson) => void;
  /**
   * Run `OnInit` with the config after loading when the manifest lists LifecycleManagement, as the
   * host does; `startPlugin` rejects when it fails. Turn it off to call `init` yourself.
   * @default true
   */
  readonly init?: boolean;
  /** Deadline of each call in milliseconds. @default 10000 */
  readonly callTimeoutMs?: number;
  /** Where artwork URLs point (Navidrome's ShareURL / BaseURL). @default "" (http://localhost) */
  readonly artwork?: { readonly shareUrl?: string; readonly baseUrl?: string };
  /** The Subsonic server `subsonicapi` calls go to. @default none: such calls fail */
  readonly subsonic?: SubsonicSettings;
}

/** A running plugin and the fakes around it. Close it when done (`await using` works too). */
export interface PluginUnderTest extends AsyncDisposable {
  readonly id: string;
  readonly manifest: PluginManifest;
  /** The canned HTTP answers and the requests made; undefined with `http: "network"`. */
  readonly http: CannedHttp | undefined;
  readonly cache: PluginCache;
  readonly schedules: RecordedSchedules;
  /** Lines the plugin wrote to stderr (its log), oldest first. */
  readonly logs: readonly string[];
  /** WebSocket events the plugin's callbacks failed to handle, as `<Method>: <error>`. */
  readonly callbackFailures: readonly string[];
  /** The runtime the plugin runs in, for what the kit does not cover. */
  readonly runtime: Runtime;
  /** The config the plugin reads (`get_plugin_config`) and `init` passes to `OnInit`. */
  readonly config: Readonly<Record<string, string>>;
  /**
   * Replaces the config: the plugin is loaded again with it, as a host does when an operator changes
   * `[PluginConfig.<id>]`. `OnInit` does not run again; call `init` for that.
   */
  setConfig(config: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Calls `<Capability>/<Method>` with a request in protobuf JSON (camelCase field names) and
   * resolves with the response in protobuf JSON (default values left out). Rejects with a
   * `CallError` whose `code` is `not_found` or `not_implemented` for the plugin's sentinel errors,
   * `plugin_error` for any other error string or a trap, `timeout`, or `bad_request`.
   */
  call(method: string, request?: JsonValue): Promise<JsonValue>;
  /** Runs `OnInit` with `config` (default: the current config); rejects when it fails. */
  init(config?: Readonly<Record<string, string>>): Promise<void>;
  close(): Promise<void>;
}

const ARTWORK_TEST_SECRET = "plugin-testkit-artwork-secret";

/** Loads a plugin into a fresh runtime with fake host services around it. */
export async function startPlugin(source: PluginSource, options: StartPluginOptions = {}): Promise<PluginUnderTest> {
  const { wasm, manifestText, folderName } = await readSource(source);
  const manifest = parseManifest(options.adjustManifest ? adjusted(manifestText, options.adjustManifest) : manifestText);
  const id = options.id ?? folderName ?? manifest.name;
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  let config: Readonly<Record<string, string>> = { ...options.config };

  const http = options.http === "network" ? undefined : (options.http ?? new CannedHttp());
  const logs: string[] = [];
  const callbackFailures: string[] = [];
  const cacheStore = new RecordingCacheStore();
  const scheduleStore = createMemoryScheduleStore();
  const websocket = createLocalWebSocketGateway({
    onEvent(event) {
      const callback = websocketCallbackCall(event);
      runtime
        .call(callback.pluginId, callback.capability, callback.method, callback.request)
        .catch((err: unknown) => callbackFailures.push(`${callback.method}: ${(err as Error).message}`));
    },
  });
  const host = createHost({
    plugins: { lookup: (pluginId) => (pluginId === id ? { manifest, config } : undefined) },
    thread: { artwork: { secret: ARTWORK_TEST_SECRET, shareUrl: options.artwork?.shareUrl ?? "", baseUrl: options.artwork?.baseUrl ?? "" } },
    services: [
      createHttpFunctions(http ? { transport: http.transport } : {}),
      createCacheFunctions(cacheStore),
      createSchedulerFunctions(scheduleStore),
      createWebSocketFunctions(websocket),
      createSubsonicFunctions(options.subsonic ?? {}),
    ],
  });
  const runtime = Runtime.create({
    threads: { min: 1, max: 2 },
    callTimeoutMs,
    host,
    onPluginLog: (_plugin, line) => logs.push(line),
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      websocket.closeAll();
      await runtime.close();
      await cacheStore.close();
    })());

  const call = (method: string, request: JsonValue = {}): Promise<JsonValue> => {
    const [capability, name, extra] = method.split("/");
    if (!capability || !name || extra !== undefined) {
      return Promise.reject(new CallError(CallErrorCode.BadRequest, `"${method}" is not <Capability>/<Method>, e.g. MetadataAgent/GetArtistMBID`));
    }
    return invokeJson(runtime, id, capability, name, request);
  };
  const init = (initConfig = config): Promise<void> => initializePlugin(runtime, id, initConfig);

  const plugin: PluginUnderTest = {
    id,
    manifest,
    http,
    cache: cacheStore.view(id),
    schedules: recordedSchedules(scheduleStore, id, (request) => call("SchedulerCallback/OnSchedulerCallback", request)),
    logs,
    callbackFailures,
    runtime,
    get config() {
      return config;
    },
    async setConfig(next) {
      config = { ...next };
      await runtime.load({ id, manifest, wasm, config });
    },
    call,
    init,
    close,
    [Symbol.asyncDispose]: close,
  };

  try {
    await runtime.load({ id, manifest, wasm, config });
    if ((options.init ?? true) && manifest.capabilities.includes("LifecycleManagement")) await init();
  } catch (err) {
    await close();
    throw err;
  }
  return plugin;
}

async function readSource(source: PluginSource): Promise<{ wasm: Uint8Array; manifestText: string; folderName: string | undefined }> {
  if (typeof source !== "string") return { wasm: source.wasm, manifestText: JSON.stringify(source.manifest), folderName: undefined };
  const folder = resolve(source);
  const [wasm, manifestText] = await Promise.all([readFile(`${folder}/plugin.wasm`), readFile(`${folder}/${MANIFEST_FILE}`, "utf8")]).catch(
    (err: unknown) => {
      throw new Error(`${folder} is not a built plugin folder (plugin.wasm and ${MANIFEST_FILE}): ${(err as Error).message}`, { cause: err });
    },
  );
  return { wasm: new Uint8Array(wasm), manifestText, folderName: basename(folder) };
}

/** The manifest after `adjust`; a manifest that is not JSON fails with the loader's error instead. */
function adjusted(manifestText: string, adjust: (manifest: ManifestJson) => void): string {
  let json: ManifestJson;
  try {
    json = JSON.parse(manifestText) as ManifestJson;
  } catch {
    return manifestText;
  }
  adjust(json);
  return JSON.stringify(json);
}
