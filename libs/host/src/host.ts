/**
 * Wires the host services into the runtime's `RuntimeHost`: which module answers in-thread
 * functions, and the dispatcher for the functions answered on the event loop.
 */
import type { PluginManifest, Permissions } from "@tonearm/manifest";
import type { HostCall, RuntimeHost } from "@tonearm/runtime";
import type { AsyncByteHandler } from "./define.js";
import type { ThreadHostData } from "./thread-host.js";

/** What a host function answered on the event loop knows about its caller. */
export interface MainContext {
  readonly pluginId: string;
  /** The calling plugin's granted permissions (its manifest's). */
  readonly permissions: Permissions;
  readonly config: Readonly<Record<string, string>>;
  /** Aborted when the plugin call this host call belongs to times out or is cancelled. */
  readonly signal: AbortSignal;
}

/** Main-side host functions by `env` import name. */
export type MainFunctions = Readonly<Record<string, AsyncByteHandler<MainContext>>>;

/** Looks up what the host needs to know about a loaded plugin. */
export interface PluginDirectory {
  lookup(pluginId: string): { readonly manifest: PluginManifest; readonly config: Readonly<Record<string, string>> } | undefined;
}

export interface HostDependencies {
  readonly plugins: PluginDirectory;
  /** Settings of the functions answered inside runtime threads. */
  readonly thread?: ThreadHostData;
  /** Main-side services, each a record of functions (see `createHttpFunctions`, ...). */
  readonly services?: readonly MainFunctions[];
  /** Told of every main-side host call once it is answered (for metrics). */
  readonly onHostCall?: HostCallObserver;
}

/** `outcome` is "ok" when the function answered, "error" when it failed (the plugin sees the error). */
export type HostCallObserver = (pluginId: string, functionName: string, outcome: "ok" | "error") => void;

const THREAD_HOST_MODULE = new URL("./thread-host.js", import.meta.url).href;

export function createHost(deps: HostDependencies): RuntimeHost {
  const functions: Record<string, AsyncByteHandler<MainContext>> = {};
  for (const service of deps.services ?? []) Object.assign(functions, service);
  const threadData: ThreadHostData = deps.thread ?? {};
  return {
    threadHost: { specifier: THREAD_HOST_MODULE, data: threadData },
    handleHostCall: async (call: HostCall) => {
      const fn = functions[call.name];
      if (!fn) throw new Error(`host service for env.${call.name} is not available`);
      const plugin = deps.plugins.lookup(call.pluginId);
      if (!plugin) throw new Error(`plugin ${call.pluginId} is not loaded`);
      const answer = fn({ pluginId: call.pluginId, permissions: plugin.manifest.permissions, config: plugin.config, signal: call.signal }, call.request);
      const observe = deps.onHostCall;
      if (observe === undefined) return answer;
      try {
        const response = await answer;
        observe(call.pluginId, call.name, "ok");
        return response;
      } catch (err) {
        observe(call.pluginId, call.name, "error");
        throw err;
      }
    },
  };
}
