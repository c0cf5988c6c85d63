/**
 * Which gateway owns which connection, in the websockets KV bucket. Workers read it to route a
 * send to the socket's owner; gateways write it when a connection opens and remove it when it ends.
 */
import type { KeyValue } from "@tonearm/bus";
import { decodeGatewayId, encodeGatewayId, ownerKey, ownerKeyFilter, parseOwnerKey } from "./protocol.js";

export interface ConnectionRef {
  readonly pluginId: string;
  readonly connectionId: string;
}

/** Which entry to release: a given recording of the connection, or any entry of a gateway. */
export type OwnerMatch = { readonly revision: number } | { readonly gatewayId: string };

export interface OwnershipTable {
  /** The id of the gateway owning the connection, or undefined when none does. */
  owner(pluginId: string, connectionId: string): Promise<string | undefined>;
  /** Resolves with the entry's revision, which names this one recording of the connection. */
  record(pluginId: string, connectionId: string, gatewayId: string): Promise<number>;
  /**
   * Removes the entry if it is still the one `match` names, so nobody erases an entry written
   * since (by another gateway, or for a newer socket with the same id). Resolves with whether it
   * removed one.
   */
  release(pluginId: string, connectionId: string, match: OwnerMatch): Promise<boolean>;
  /** Connections of the plugin with an owner, leaving out `exceptConnectionId`. */
  count(pluginId: string, exceptConnectionId: string): Promise<number>;
  /** Every connection the gateway owns according to the table. */
  ownedBy(gatewayId: string): Promise<ConnectionRef[]>;
}

export function ownershipTable(kv: KeyValue): OwnershipTable {
  return {
    async owner(pluginId, connectionId) {
      const entry = await kv.get(ownerKey(pluginId, connectionId));
      return entry ? decodeGatewayId(entry.value) : undefined;
    },
    record(pluginId, connectionId, gatewayId) {
      return kv.put(ownerKey(pluginId, connectionId), encodeGatewayId(gatewayId));
    },
    async release(pluginId, connectionId, match) {
      const key = ownerKey(pluginId, connectionId);
      const entry = await kv.get(key);
      if (!entry) return false;
      const matches = "revision" in match ? entry.revision === match.revision : decodeGatewayId(entry.value) === match.gatewayId;
      if (!matches) return false;
      // The KV port has no conditional delete: a new entry written between the read and the
      // delete (one round trip) would be lost. New entries follow the plugin's reaction to the
      // end of the old connection, which comes after this.
      await kv.delete(key);
      return true;
    },
    async count(pluginId, exceptConnectionId) {
      const except = ownerKey(pluginId, exceptConnectionId);
      let count = 0;
      for await (const key of kv.keys(ownerKeyFilter(pluginId))) if (key !== except) count++;
      return count;
    },
    async ownedBy(gatewayId) {
      const owned: ConnectionRef[] = [];
      for await (const key of kv.keys(ownerKeyFilter())) {
        const ref = parseOwnerKey(key);
        if (!ref) continue;
        const entry = await kv.get(key);
        if (entry && decodeGatewayId(entry.value) === gatewayId) owned.push(ref);
      }
      return owned;
    },
  };
}
