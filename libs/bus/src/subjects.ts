/**
 * Every subject, bucket, object store, stream and consumer name Tonearm uses, in one place.
 * Subjects live under `tonearm.<ns>.` so clusters and test runs can share one NATS server:
 *
 *   call.<plugin>.<Capability>.<Method>        plugin calls (any worker, queue group)
 *   agents.<Method>                            Agents orchestration over every enabled plugin
 *   scrobble.{nowplaying,submit}.<user>        scrobble events (JetStream)
 *   scrobble-dead.<plugin>.<user>              scrobbles a plugin could not take (JetStream)
 *   registry.{list,get,refresh,install,remove} registry requests
 *   events.plugin.<plugin>                     plugin record changes
 *   gateway.<Method>                           WebSocket gateway, any instance (queue group)
 *   gateway.<gatewayId>.<Method>               the gateway instance owning a connection
 *   stats.worker.<workerId>                    a worker's periodic call statistics (WorkerStatsReport)
 *   scheduler.list                             the schedules plugins made (any scheduler, queue group)
 *
 * Plugin ids, user names and gateway ids become single tokens through `encodeToken`.
 */
import { checkResourceName } from "./validate.js";
import { BusError } from "./errors.js";

const SUBJECT_ROOT = "tonearm";

// Left as they are; everything else (`.`, space, `*`, `>`, `=`, non-ASCII…) becomes `=XX` per UTF-8
// byte. The result is a valid subject token, KV key, and consumer name.
const PLAIN = /^[A-Za-z0-9_-]$/;
/** A value made of plain characters only is its own token: the common case, answered without a loop. */
const PLAIN_TOKEN = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Escapes a value (plugin id, user name) into one subject token, readably and reversibly:
 * `my.plugin` → `my=2Eplugin`, `DJ Ann` → `DJ=20Ann`.
 */
export function encodeToken(value: string): string {
  if (value === "") throw new BusError("invalid_argument", "an empty name cannot be a subject token");
  if (PLAIN_TOKEN.test(value)) return value;
  let out = "";
  for (const char of value) {
    if (PLAIN.test(char)) {
      out += char;
      continue;
    }
    for (const byte of utf8.encode(char)) out += `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Reverses `encodeToken`; throws `invalid_argument` on text it could not have produced. */
export function decodeToken(token: string): string {
  if (PLAIN_TOKEN.test(token)) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const char = token[i] as string;
    if (char === "=") {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw badToken(token);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (PLAIN.test(char)) {
      bytes.push(char.charCodeAt(0));
    } else {
      throw badToken(token);
    }
  }
  if (bytes.length === 0) throw badToken(token);
  try {
    return strictUtf8.decode(Uint8Array.from(bytes));
  } catch (err) {
    throw badToken(token, err);
  }
}

function badToken(token: string, cause?: unknown): BusError {
  return new BusError("invalid_argument", `"${token}" is not an escaped subject token`, { target: token, cause });
}

/** Namespaces become parts of subjects and of bucket/stream names, so they use the stricter rule. */
export function checkNamespace(namespace: string): void {
  checkResourceName("namespace", namespace);
}

export const ScrobbleKind = { NowPlaying: "nowplaying", Submit: "submit" } as const;
export type ScrobbleKind = (typeof ScrobbleKind)[keyof typeof ScrobbleKind];

/** Methods of the WebSocket gateway: the host service's RPCs, forwarded to the socket's owner. */
export const GatewayMethod = { Connect: "Connect", SendText: "SendText", SendBinary: "SendBinary", Close: "Close" } as const;
export type GatewayMethod = (typeof GatewayMethod)[keyof typeof GatewayMethod];

export interface CallTarget {
  readonly plugin: string;
  readonly capability: string;
  readonly method: string;
}

export interface Subjects {
  readonly namespace: string;
  /** `tonearm.<ns>` */
  readonly prefix: string;
  call(plugin: string, capability: string, method: string): string;
  /** Every plugin call: what workers subscribe to. */
  readonly allCalls: string;
  /** Every call to one plugin. */
  pluginCalls(plugin: string): string;
  /** Reads plugin, capability and method back from a call subject, or undefined for any other subject. */
  parseCall(subject: string): CallTarget | undefined;
  agents(method: string): string;
  readonly allAgents: string;
  scrobble(kind: ScrobbleKind, user: string): string;
  /** Both scrobble kinds, every user: what the scrobble stream captures. */
  readonly allScrobbles: string;
  parseScrobble(subject: string): { kind: ScrobbleKind; user: string } | undefined;
  /** Every event of one kind, every user: what that kind's stream captures. */
  scrobbles(kind: ScrobbleKind): string;
  /** A submit event `plugin` could not take, dead-lettered. */
  deadScrobble(plugin: string, user: string): string;
  /** Every dead-lettered event of one plugin. */
  pluginDeadScrobbles(plugin: string): string;
  /** Every dead-lettered event: what the dead-letter stream captures. */
  readonly allDeadScrobbles: string;
  readonly registryList: string;
  readonly registryGet: string;
  readonly registryRefresh: string;
  readonly registryInstall: string;
  readonly registryRemove: string;
  pluginEvents(plugin: string): string;
  readonly allPluginEvents: string;
  /** A gateway request any gateway instance may answer (queue group). */
  gateway(method: GatewayMethod): string;
  /** A gateway request for the instance that owns a connection. */
  gatewayInstance(gatewayId: string, method: GatewayMethod): string;
  /** Where one worker publishes its call statistics. */
  workerStats(workerId: string): string;
  /** Every worker's call statistics: what the status page listens to. */
  readonly allWorkerStats: string;
  /** Lists the schedules plugins made (ListSchedulesRequest → ListSchedulesResponse). */
  readonly schedulerList: string;
}

/**
 * The names of a namespace are built once: `subjects()` is asked for on every call and every
 * scrobble event, and building them (the check, the prefixes, every function) costs more than
 * the lookup they serve. A process uses a handful of namespaces; the bound only guards tools that
 * go through many.
 */
const MAX_CACHED_NAMESPACES = 64;

function cached<T>(cache: Map<string, T>, namespace: string, build: (namespace: string) => T): T {
  let names = cache.get(namespace);
  if (names === undefined) {
    names = build(namespace);
    if (cache.size >= MAX_CACHED_NAMESPACES) cache.clear();
    cache.set(namespace, names);
  }
  return names;
}

const subjectsCache = new Map<string, Subjects>();
const storageNamesCache = new Map<string, StorageNames>();

export function subjects(namespace: string): Subjects {
  return cached(subjectsCache, namespace, buildSubjects);
}

function buildSubjects(namespace: string): Subjects {
  checkNamespace(namespace);
  const prefix = `${SUBJECT_ROOT}.${namespace}`;
  const callPrefix = `${prefix}.call.`;
  const scrobblePrefix = `${prefix}.scrobble.`;
  const scrobbleKinds = new Set<string>(Object.values(ScrobbleKind));
  return Object.freeze({
    namespace,
    prefix,
    call: (plugin: string, capability: string, method: string) =>
      `${callPrefix}${encodeToken(plugin)}.${encodeToken(capability)}.${encodeToken(method)}`,
    allCalls: `${callPrefix}>`,
    pluginCalls: (plugin: string) => `${callPrefix}${encodeToken(plugin)}.>`,
    parseCall: (subject: string): CallTarget | undefined => {
      if (!subject.startsWith(callPrefix)) return undefined;
      const tokens = subject.slice(callPrefix.length).split(".");
      if (tokens.length !== 3) return undefined;
      const [plugin, capability, method] = tokens.map(tryDecode);
      if (plugin === undefined || capability === undefined || method === undefined) return undefined;
      return { plugin, capability, method };
    },
    agents: (method: string) => `${prefix}.agents.${encodeToken(method)}`,
    allAgents: `${prefix}.agents.>`,
    scrobble: (kind: ScrobbleKind, user: string) => `${scrobblePrefix}${kind}.${encodeToken(user)}`,
    allScrobbles: `${scrobblePrefix}>`,
    scrobbles: (kind: ScrobbleKind) => `${scrobblePrefix}${kind}.>`,
    deadScrobble: (plugin: string, user: string) => `${prefix}.scrobble-dead.${encodeToken(plugin)}.${encodeToken(user)}`,
    pluginDeadScrobbles: (plugin: string) => `${prefix}.scrobble-dead.${encodeToken(plugin)}.>`,
    allDeadScrobbles: `${prefix}.scrobble-dead.>`,
    parseScrobble: (subject: string) => {
      if (!subject.startsWith(scrobblePrefix)) return undefined;
      const tokens = subject.slice(scrobblePrefix.length).split(".");
      const [kind, userToken] = tokens;
      if (tokens.length !== 2 || kind === undefined || !scrobbleKinds.has(kind) || userToken === undefined) return undefined;
      const user = tryDecode(userToken);
      return user === undefined ? undefined : { kind: kind as ScrobbleKind, user };
    },
    registryList: `${prefix}.registry.list`,
    registryGet: `${prefix}.registry.get`,
    registryRefresh: `${prefix}.registry.refresh`,
    registryInstall: `${prefix}.registry.install`,
    registryRemove: `${prefix}.registry.remove`,
    pluginEvents: (plugin: string) => `${prefix}.events.plugin.${encodeToken(plugin)}`,
    allPluginEvents: `${prefix}.events.plugin.>`,
    gateway: (method: GatewayMethod) => `${prefix}.gateway.${method}`,
    gatewayInstance: (gatewayId: string, method: GatewayMethod) => `${prefix}.gateway.${encodeToken(gatewayId)}.${method}`,
    workerStats: (workerId: string) => `${prefix}.stats.worker.${encodeToken(workerId)}`,
    allWorkerStats: `${prefix}.stats.worker.*`,
    schedulerList: `${prefix}.scheduler.list`,
  });
}

function tryDecode(token: string): string | undefined {
  try {
    return decodeToken(token);
  } catch {
    return undefined;
  }
}

export interface StorageNames {
  /** KV: plugin records, keyed by `encodeToken(pluginId)`. */
  readonly pluginsBucket: string;
  /** KV: leases (the one active registry). */
  readonly leasesBucket: string;
  /** KV: WebSocket connection ownership, `<plugin>:<connectionId>` → gateway id. */
  readonly websocketsBucket: string;
  /** Object store: plugin wasm, named by hex SHA-256. */
  readonly artifactsStore: string;
  /** Stream capturing `scrobble.submit.>`: every submit event, kept for the retention period. */
  readonly scrobbleStream: string;
  /** Stream capturing `scrobble.nowplaying.>`, keeping only the latest event per user. */
  readonly nowPlayingStream: string;
  /** Stream capturing `scrobble-dead.>`: submits a plugin could not take, with the reason. */
  readonly deadScrobbleStream: string;
  /** The durable consumer delivering submits to one plugin. */
  scrobbleConsumer(plugin: string): string;
  /** The durable consumer delivering now-playing events to one plugin. */
  nowPlayingConsumer(plugin: string): string;
  /** The durable consumer holding one plugin's dead letters until they are replayed. */
  deadScrobbleConsumer(plugin: string): string;
  /** Any other bucket or store of this namespace: `tonearm_<ns>_<purpose>`. */
  bucket(purpose: string): string;
}

/** Bucket, store and stream names hold no dots (NATS forbids them there): `tonearm_<ns>_<purpose>`. */
export function storageNames(namespace: string): StorageNames {
  return cached(storageNamesCache, namespace, buildStorageNames);
}

function buildStorageNames(namespace: string): StorageNames {
  checkNamespace(namespace);
  const bucket = (purpose: string): string => {
    checkResourceName("bucket purpose", purpose);
    return `${SUBJECT_ROOT}_${namespace}_${purpose}`;
  };
  return Object.freeze({
    pluginsBucket: bucket("plugins"),
    leasesBucket: bucket("leases"),
    websocketsBucket: bucket("websockets"),
    artifactsStore: bucket("artifacts"),
    scrobbleStream: bucket("scrobbles"),
    nowPlayingStream: bucket("nowplaying"),
    deadScrobbleStream: bucket("scrobbles_dead"),
    scrobbleConsumer: (plugin: string) => `scrobbler_${encodeToken(plugin)}`,
    nowPlayingConsumer: (plugin: string) => `nowplaying_${encodeToken(plugin)}`,
    deadScrobbleConsumer: (plugin: string) => `dead_${encodeToken(plugin)}`,
    bucket,
  });
}
