/**
 * Where the status page reads what the registry does not keep itself: the schedules (asked of any
 * scheduler), the WebSocket connections (the gateways' ownership entries in KV), the registry lease,
 * and the scrobble consumers' lag (a source handed in by whoever runs the consumers).
 * Each part that cannot be read says why instead of failing the page.
 */
import { storageNames, type Bus, type KeyValue, type PluginRecord } from "@tonearm/bus";
import {
  HEARTBEAT_KEY_FILTER,
  decodeGatewayId,
  decodeHeartbeat,
  isStale,
  ownerKeyFilter,
  parseHeartbeatKey,
  parseOwnerKey,
} from "@tonearm/gateway";
import { ScheduleKind, listSchedules } from "@tonearm/scheduler";
import type { Availability, ConnectionStatus, RegistryStatus, ScheduleStatus, ScrobbleLag } from "./status-model.js";

/** Rows a section shows at most; the rest are counted as omitted. */
export const MAX_ROWS = 500;

/** Reads the lag of the scrobble consumers of the Scrobbler plugins among `records`. */
export type ScrobbleStatusSource = (records: readonly PluginRecord[]) => Promise<readonly ScrobbleLag[]>;

const KIND_NAMES = { [ScheduleKind.ONCE]: "once", [ScheduleKind.CRON]: "cron", [ScheduleKind.EVERY]: "every" } as const;

export async function readSchedules(bus: Bus, namespace: string, timeoutMs: number): Promise<Availability<ScheduleStatus>> {
  try {
    const listed = await listSchedules(bus, namespace, { timeoutMs });
    const items = listed.map((s): ScheduleStatus => ({
      plugin: s.plugin,
      scheduleId: s.scheduleId,
      kind: KIND_NAMES[s.kind as keyof typeof KIND_NAMES] ?? "once",
      expression: s.expression,
      nextFireMs: s.nextFireMs === 0n ? null : Number(s.nextFireMs),
      createdAtMs: Number(s.createdAtMs),
    }));
    return limited(items);
  } catch (err) {
    return { available: false, reason: describe(err) };
  }
}

export async function readConnections(bus: Bus, namespace: string): Promise<Availability<ConnectionStatus>> {
  try {
    const kv = await bus.kv(storageNames(namespace).websocketsBucket);
    const now = Date.now();
    const alive = new Map<string, boolean>();
    for await (const key of kv.keys(HEARTBEAT_KEY_FILTER)) {
      const gateway = parseHeartbeatKey(key);
      const entry = await kv.get(key);
      const heartbeat = entry && decodeHeartbeat(entry.value);
      if (gateway !== undefined && heartbeat !== undefined) alive.set(gateway, !isStale(heartbeat, now) && heartbeat.reapedBy === undefined);
    }
    const items: ConnectionStatus[] = [];
    for await (const key of kv.keys(ownerKeyFilter())) {
      const ref = parseOwnerKey(key);
      const entry = ref && (await kv.get(key));
      if (ref === undefined || entry === undefined) continue;
      const gateway = decodeGatewayId(entry.value);
      items.push({ plugin: ref.pluginId, connectionId: ref.connectionId, gateway, gatewayAlive: alive.get(gateway) ?? false });
    }
    items.sort((a, b) => (a.plugin === b.plugin ? compare(a.connectionId, b.connectionId) : compare(a.plugin, b.plugin)));
    return limited(items);
  } catch (err) {
    return { available: false, reason: `the WebSocket ownership entries cannot be read: ${describe(err)}` };
  }
}

export async function readScrobbles(source: ScrobbleStatusSource | undefined, records: readonly PluginRecord[]): Promise<Availability<ScrobbleLag>> {
  if (source === undefined) return { available: false, reason: "not available: this process has no scrobble consumer status" };
  try {
    return limited([...(await source(records))].sort((a, b) => compare(a.plugin, b.plugin)));
  } catch (err) {
    return { available: false, reason: `the scrobble consumers cannot be read: ${describe(err)}` };
  }
}

/**
 * The lease as the bus library's `createLease` writes it: JSON `{"holder","expiresAtMs"}`, holder
 * empty once released.
 */
export async function readLease(leases: KeyValue, key: string, serving: boolean): Promise<RegistryStatus> {
  try {
    const entry = await leases.get(key);
    const value = entry && (JSON.parse(new TextDecoder().decode(entry.value)) as { holder?: unknown; expiresAtMs?: unknown });
    const holder = typeof value?.holder === "string" && value.holder !== "" ? value.holder : null;
    const expires = holder !== null && typeof value?.expiresAtMs === "number" ? value.expiresAtMs : null;
    return { serving, activeRegistry: holder, leaseExpiresAtMs: expires };
  } catch {
    return { serving, activeRegistry: null, leaseExpiresAtMs: null };
  }
}

function limited<T>(items: T[]): Availability<T> {
  return { available: true, items: items.slice(0, MAX_ROWS), omitted: Math.max(0, items.length - MAX_ROWS) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
