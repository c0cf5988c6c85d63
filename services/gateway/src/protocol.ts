/**
 * The gateway's wire contract: the `websocket` host service's RPCs forwarded over the bus to the
 * process that owns the sockets, and the KV entries that say which gateway owns which connection.
 *
 * Requests (request-reply; data is the host service's request message, protobuf, unchanged):
 *   tonearm.<ns>.gateway.Connect                       ConnectRequest → ConnectResponse
 *                                                      any gateway (queue group `gateways`)
 *   tonearm.<ns>.gateway.<gatewayId>.SendText          SendTextRequest → SendTextResponse
 *   tonearm.<ns>.gateway.<gatewayId>.SendBinary        SendBinaryRequest → SendBinaryResponse
 *   tonearm.<ns>.gateway.<gatewayId>.Close             CloseRequest → CloseResponse
 *                                                      the gateway owning the connection
 *   headers   Tonearm-Plugin               the calling plugin's id, as `encodeToken` escapes it (required)
 *             Tonearm-Allow-Local-Network  `true` when the plugin's permission allows local
 *                                          addresses (Connect only; the worker checked the URL)
 * Replies   the response message; a failure is its `error` field in Navidrome's words. An id that
 *           names no open connection of the plugin also carries `Tonearm-Error-Code: not_found`,
 *           so callers recognise it without parsing text.
 *
 * KV bucket `tonearm_<ns>_websockets` (storageNames().websocketsBucket):
 *   owners.<plugin>.<connectionId>   the owning gateway's id (UTF-8); the connection key
 *                                    `<plugin>:<connectionId>` with both parts escaped by `encodeToken`
 *   gateways.<gatewayId>             a gateway's heartbeat, JSON `GatewayHeartbeat`
 */
import { decodeToken, encodeToken } from "@tonearm/bus";

export const GatewayHeader = {
  Plugin: "Tonearm-Plugin",
  AllowLocalNetwork: "Tonearm-Allow-Local-Network",
  ErrorCode: "Tonearm-Error-Code",
} as const;

/** The only error code a gateway reply carries; every other failure is just the `error` text. */
export const CONNECTION_NOT_FOUND_CODE = "not_found";

/** Queue group of the gateways' shared Connect subscription. */
export const GATEWAY_QUEUE = "gateways";

const OWNERS_PREFIX = "owners.";
const HEARTBEATS_PREFIX = "gateways.";
const utf8 = new TextEncoder();
const lenientUtf8 = new TextDecoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The KV key recording which gateway owns a plugin's connection. */
export function ownerKey(pluginId: string, connectionId: string): string {
  return `${OWNERS_PREFIX}${encodeToken(pluginId)}.${encodeToken(connectionId)}`;
}

/** Filter matching every owner key of one plugin, or of all plugins. */
export function ownerKeyFilter(pluginId?: string): string {
  return pluginId === undefined ? `${OWNERS_PREFIX}>` : `${OWNERS_PREFIX}${encodeToken(pluginId)}.>`;
}

/** Plugin and connection id back from an owner key; undefined for any other key. */
export function parseOwnerKey(key: string): { pluginId: string; connectionId: string } | undefined {
  if (!key.startsWith(OWNERS_PREFIX)) return undefined;
  const tokens = key.slice(OWNERS_PREFIX.length).split(".");
  if (tokens.length !== 2) return undefined;
  try {
    return { pluginId: decodeToken(tokens[0] as string), connectionId: decodeToken(tokens[1] as string) };
  } catch {
    return undefined;
  }
}

export function heartbeatKey(gatewayId: string): string {
  return `${HEARTBEATS_PREFIX}${encodeToken(gatewayId)}`;
}

export const HEARTBEAT_KEY_FILTER = `${HEARTBEATS_PREFIX}*`;

export function parseHeartbeatKey(key: string): string | undefined {
  if (!key.startsWith(HEARTBEATS_PREFIX)) return undefined;
  try {
    return decodeToken(key.slice(HEARTBEATS_PREFIX.length));
  } catch {
    return undefined;
  }
}

export function encodeGatewayId(gatewayId: string): Uint8Array {
  return utf8.encode(gatewayId);
}

export function decodeGatewayId(value: Uint8Array): string {
  return lenientUtf8.decode(value);
}

/** What a heartbeat entry holds. Versioned, since gateways of different releases share a bucket. */
export interface GatewayHeartbeat {
  readonly v: 1;
  /** Epoch milliseconds of the last renewal. */
  readonly at: number;
  /** How often the writer renews it; the entry is stale after three of these. */
  readonly heartbeatMs: number;
  /** Set when a surviving gateway took over the entry to clean up after its dead writer. */
  readonly reapedBy?: string;
}

export function encodeHeartbeat(heartbeat: GatewayHeartbeat): Uint8Array {
  return utf8.encode(JSON.stringify(heartbeat));
}

/** The heartbeat, or undefined when the entry is not one this release understands. */
export function decodeHeartbeat(value: Uint8Array): GatewayHeartbeat | undefined {
  try {
    const parsed = JSON.parse(strictUtf8.decode(value)) as Partial<GatewayHeartbeat>;
    if (parsed.v !== 1 || typeof parsed.at !== "number" || typeof parsed.heartbeatMs !== "number") return undefined;
    return parsed as GatewayHeartbeat;
  } catch {
    return undefined;
  }
}

/** Missed renewals after which a gateway counts as dead. */
export const MISSED_HEARTBEATS = 3;

export function isStale(heartbeat: GatewayHeartbeat, nowMs: number): boolean {
  return nowMs - heartbeat.at > MISSED_HEARTBEATS * heartbeat.heartbeatMs;
}
