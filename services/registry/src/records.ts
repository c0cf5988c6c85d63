/**
 * Plugin records as the registry stores and announces them.
 *
 *   KV bucket  storageNames(ns).pluginsBucket (tonearm_<ns>_plugins)
 *   key        encodeToken(pluginId)
 *   value      PluginRecord (protobuf)
 *   event      PluginEvent on subjects(ns).pluginEvents(pluginId) after every write
 *
 * `config` holds the plugin's settings with the values of secret ones sealed (see
 * @tonearm/config `PluginSecrets`): records travel on the bus, secrets never in clear.
 */
import type { PluginSecrets } from "@tonearm/config";
import { bus as busProto } from "@tonearm/proto";

const { PluginState, PluginEvent_Kind: EventKind } = busProto;

/** The fields the registry decides; id, version and time are filled in when the record is written. */
export interface RecordContent {
  readonly manifestJson: string;
  readonly sha256: string;
  readonly state: busProto.PluginState;
  readonly error: string;
  readonly config: Readonly<Record<string, string>>;
}

/**
 * Every plugin's settings as records publish them: secret values sealed. Sealing is
 * deterministic, so an unchanged configuration gives unchanged records.
 */
export function publishedPluginConfig(
  pluginConfig: Readonly<Record<string, Readonly<Record<string, string>>>>,
  secrets: PluginSecrets | undefined,
): Readonly<Record<string, Readonly<Record<string, string>>>> {
  if (secrets === undefined) return pluginConfig;
  return Object.fromEntries(Object.entries(pluginConfig).map(([id, settings]) => [id, secrets.seal(id, settings)]));
}

/** Whether a record in this state needs its artifact in the object store. */
export function keepsArtifact(record: Pick<busProto.PluginRecord, "state" | "sha256">): boolean {
  if (record.sha256 === "") return false;
  return (
    record.state === PluginState.LOADING || record.state === PluginState.READY || record.state === PluginState.FAILED
  );
}

/**
 * The event announcing `next`: LOADED when a version becomes callable, UPDATED for every other
 * change that leaves the plugin in place (LOADING, DISABLED, a new configuration).
 */
export function eventKind(previous: busProto.PluginRecord | undefined, next: busProto.PluginRecord): busProto.PluginEvent_Kind {
  switch (next.state) {
    case PluginState.REMOVED:
      return EventKind.REMOVED;
    case PluginState.FAILED:
      return EventKind.FAILED;
    case PluginState.READY:
      return previous?.state === PluginState.READY && previous.sha256 === next.sha256 ? EventKind.UPDATED : EventKind.LOADED;
    default:
      return EventKind.UPDATED;
  }
}

export function sameContent(record: busProto.PluginRecord, content: RecordContent): boolean {
  return (
    record.manifestJson === content.manifestJson &&
    record.sha256 === content.sha256 &&
    record.state === content.state &&
    record.error === content.error &&
    sameConfig(record.config, content.config)
  );
}

export function sameConfig(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const aKeys = Object.keys(a);
  return aKeys.length === Object.keys(b).length && aKeys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

/** The state's name without its prefix, for logs: `READY`. */
export function stateName(state: busProto.PluginState): string {
  return PluginState[state];
}
