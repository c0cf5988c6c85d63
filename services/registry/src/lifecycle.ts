/**
 * OnInit (ABI.md §11.6), run once per plugin id and artifact across the cluster.
 *
 * Navidrome calls `OnInit` once per plugin id and version in its process, and unregisters a plugin
 * whose OnInit fails. Here the outcome is kept in KV, so a registry that restarts or takes over
 * does not run it again for the same artifact:
 *
 *   bucket  tonearm_<ns>_lifecycle
 *   key     init.<encodeToken(pluginId)>.<sha256>
 *   value   JSON {"ok": true} | {"ok": false, "error": "<text>"}
 *
 * The outcome is written after the call returns: a registry that dies during OnInit leaves no
 * outcome, and its successor runs OnInit again.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import { callPlugin, encodeToken, storageNames, type Bus, type KeyValue } from "@tonearm/bus";
import { api } from "@tonearm/proto";
import { REGISTRY_CALLER } from "./verify.js";

export type InitOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The bucket holding OnInit outcomes. */
export function lifecycleBucket(namespace: string): string {
  return storageNames(namespace).bucket("lifecycle");
}

export function initOutcomeKey(pluginId: string, sha256: string): string {
  return `init.${encodeToken(pluginId)}.${sha256}`;
}

export class InitOutcomes {
  constructor(private readonly kv: KeyValue) {}

  async get(pluginId: string, sha256: string): Promise<InitOutcome | undefined> {
    const entry = await this.kv.get(initOutcomeKey(pluginId, sha256));
    return entry === undefined ? undefined : decodeOutcome(entry.value);
  }

  async put(pluginId: string, sha256: string, outcome: InitOutcome): Promise<void> {
    await this.kv.put(initOutcomeKey(pluginId, sha256), new TextEncoder().encode(JSON.stringify(outcome)));
  }

  /** Forgets every version of a plugin that left the folder: if it comes back, OnInit runs again. */
  async forget(pluginId: string): Promise<void> {
    const keys: string[] = [];
    for await (const key of this.kv.keys(`init.${encodeToken(pluginId)}.*`)) keys.push(key);
    await Promise.all(keys.map((key) => this.kv.delete(key)));
  }
}

function decodeOutcome(data: Uint8Array): InitOutcome | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as { ok?: unknown; error?: unknown } | null;
    if (value?.ok === true) return { ok: true };
    if (value?.ok === false && typeof value.error === "string") return { ok: false, error: value.error };
  } catch {
    // fall through: an unreadable outcome counts as none
  }
  return undefined;
}

export type InitResult =
  | InitOutcome
  /** No worker could take the call: ask again later, OnInit did not run. */
  | { readonly ok: "retry"; readonly message: string };

/**
 * Calls the plugin's OnInit through a worker with its configuration. A failed call or a non-empty
 * `InitResponse.error` is a failure with that text.
 */
export async function runOnInit(
  bus: Bus,
  namespace: string,
  pluginId: string,
  config: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<InitResult> {
  const request = toBinary(api.InitRequestSchema, create(api.InitRequestSchema, { config: { ...config } }));
  let reply: Uint8Array;
  try {
    reply = await callPlugin(bus, namespace, {
      plugin: pluginId,
      capability: "LifecycleManagement",
      method: "OnInit",
      request,
      caller: REGISTRY_CALLER,
      timeoutMs,
    });
  } catch (err) {
    if (!(err instanceof CallError)) throw err;
    if (err.code === "unavailable") return { ok: "retry", message: err.message };
    return { ok: false, error: err.message };
  }
  let response: api.InitResponse;
  try {
    response = fromBinary(api.InitResponseSchema, reply);
  } catch (err) {
    return { ok: false, error: `OnInit returned a malformed InitResponse: ${err instanceof Error ? err.message : String(err)}` };
  }
  return response.error === "" ? { ok: true } : { ok: false, error: response.error };
}
