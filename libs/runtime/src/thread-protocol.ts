/**
 * Messages between the runtime (main thread) and its worker threads. Plain data only: they are
 * structured-cloned, with byte payloads transferred.
 */
import type { Capability, CallErrorCode } from "@tonearm/abi";
import type { MessagePort } from "node:worker_threads";

/** Everything a thread needs to instantiate one plugin version. */
export interface ThreadPlugin {
  /** `<pluginId>@<sha256>`: one version of one plugin. */
  readonly key: string;
  readonly pluginId: string;
  readonly module: WebAssembly.Module;
  readonly capabilities: readonly Capability[];
  readonly linkedEnv: readonly string[];
  readonly config: Readonly<Record<string, string>>;
}

export interface ThreadLimits {
  readonly maxIdle: number;
  readonly idleTtlMs: number;
  readonly maxResultSize: number;
}

export interface ThreadInit {
  readonly bridgePort: MessagePort;
  /** The bridge's state word and answer area (bridge.ts). */
  readonly bridgeShared: SharedArrayBuffer;
  readonly limits: ThreadLimits;
  /** Optional module answering some `env` imports inside the thread (see `ThreadHostModule`). */
  readonly threadHost?: { readonly specifier: string; readonly data: unknown };
}

export type ToThread =
  | { readonly type: "call"; readonly id: number; readonly key: string; readonly plugin?: ThreadPlugin; readonly capability: Capability; readonly exportName: string; readonly request: Uint8Array }
  | { readonly type: "warm"; readonly id: number; readonly key: string; readonly plugin?: ThreadPlugin }
  | { readonly type: "unload"; readonly key: string };

export interface ThreadFailure {
  readonly code: CallErrorCode;
  readonly message: string;
}

export type FromThread =
  | { readonly type: "ready" }
  | { readonly type: "result"; readonly id: number; readonly ok: true; readonly bytes: Uint8Array; readonly idle: number }
  | { readonly type: "result"; readonly id: number; readonly ok: false; readonly pluginError?: string; readonly failure?: ThreadFailure; readonly idle: number }
  | { readonly type: "log"; readonly pluginId: string; readonly line: string };

/**
 * A module loaded in every thread to answer `env` imports that need no I/O (time, config, artwork
 * URLs) without the hop to the main thread. Its default export builds the handler from `data`.
 */
export interface ThreadHost {
  /** The `env` import names answered here. */
  readonly names: ReadonlySet<string>;
  call(plugin: { readonly pluginId: string; readonly config: Readonly<Record<string, string>> }, name: string, request: Uint8Array): Uint8Array;
}
export type ThreadHostFactory = (data: unknown) => ThreadHost | Promise<ThreadHost>;
