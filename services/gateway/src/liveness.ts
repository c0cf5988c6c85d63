/**
 * Gateways watch each other through heartbeats in the websockets KV bucket, so the connections of
 * a gateway that died are not left dangling: their plugins would wait forever for another event.
 *
 * Each gateway renews `gateways.<id>` every `heartbeatMs` and checks the others'. An entry not
 * renewed for three of its writer's intervals is stale; the first survivor to claim it (a
 * compare-and-set write naming itself in `reapedBy`) removes every connection the dead gateway
 * owned, tells the plugins (`onConnectionLost`), and deletes the entry. Detection therefore takes
 * at most 3 × the dead gateway's interval plus one of the survivor's. Heartbeats are wall-clock
 * times compared across hosts: clocks must agree to well within 3 intervals (NTP does).
 *
 * A gateway that was only cut off and comes back finds its entry changed under it: its sockets
 * were already reported lost, so it drops them silently (`onFenced`) and rejoins once the reaper
 * is done. It also refuses new connections until then, so the reaper cannot take those as well.
 */
import { BusError, type BusLogger, type KeyValue } from "@tonearm/bus";
import type { ConnectionRef, OwnershipTable } from "./ownership.js";
import {
  HEARTBEAT_KEY_FILTER,
  decodeHeartbeat,
  encodeHeartbeat,
  heartbeatKey,
  isStale,
  parseHeartbeatKey,
  type GatewayHeartbeat,
} from "./protocol.js";

export interface LivenessOptions {
  readonly kv: KeyValue;
  readonly owners: OwnershipTable;
  readonly gatewayId: string;
  readonly heartbeatMs: number;
  readonly logger: BusLogger;
  /** Another gateway declared this one dead: its open sockets are no longer its to report. */
  readonly onFenced: () => void;
  /** A connection of a dead gateway was removed from the table; its plugin must be told. */
  readonly onConnectionLost: (connection: ConnectionRef, deadGatewayId: string) => void;
}

export interface Liveness {
  /** True while this gateway's heartbeat is its own: only then may it take connections. */
  readonly joined: boolean;
  /**
   * Writes this gateway's heartbeat unless another gateway is still cleaning up after an earlier
   * life of it; connections recorded under its id by that earlier life are reported lost first.
   * Resolves with whether it joined.
   */
  join(): Promise<boolean>;
  /** One heartbeat period: renew (or rejoin), then look for dead gateways. */
  tick(): Promise<void>;
  /** Removes this gateway's heartbeat, for a clean stop. */
  leave(): Promise<void>;
}

export function createLiveness(options: LivenessOptions): Liveness {
  const { kv, owners, gatewayId, heartbeatMs, logger } = options;
  const key = heartbeatKey(gatewayId);
  let revision: number | undefined;
  const beat = (reapedBy?: string): Uint8Array =>
    encodeHeartbeat({ v: 1, at: Date.now(), heartbeatMs, ...(reapedBy === undefined ? {} : { reapedBy }) });

  /** Removes the connections `deadGatewayId` owned and reports each one lost. */
  const reap = async (deadGatewayId: string): Promise<void> => {
    for (const connection of await owners.ownedBy(deadGatewayId)) {
      try {
        if (await owners.release(connection.pluginId, connection.connectionId, { gatewayId: deadGatewayId })) {
          options.onConnectionLost(connection, deadGatewayId);
        }
      } catch (err) {
        logger.error({ err, gateway: gatewayId, deadGateway: deadGatewayId, ...connection }, "could not remove a lost connection");
      }
    }
  };

  const join = async (): Promise<boolean> => {
    const current = await kv.get(key);
    const heartbeat = current && decodeHeartbeat(current.value);
    if (heartbeat?.reapedBy !== undefined && heartbeat.reapedBy !== gatewayId && !isStale(heartbeat, Date.now())) {
      return false;
    }
    await reap(gatewayId);
    revision = await kv.put(key, beat());
    return true;
  };

  const renew = async (): Promise<void> => {
    if (revision === undefined) {
      if (await join()) logger.info({ gateway: gatewayId }, "gateway rejoined after being declared dead");
      return;
    }
    try {
      revision = await kv.update(key, beat(), revision);
    } catch (err) {
      if (!BusError.is(err, "wrong_revision")) throw err;
      revision = undefined;
      logger.warn({ gateway: gatewayId }, "another gateway declared this one dead: dropping its connections");
      options.onFenced();
      await renew();
    }
  };

  /** Claims a stale heartbeat (only one survivor wins), cleans up after its writer, deletes it. */
  const takeOver = async (deadGatewayId: string, entryKey: string, entryRevision: number, heartbeat: GatewayHeartbeat): Promise<void> => {
    try {
      await kv.update(entryKey, beat(gatewayId), entryRevision);
    } catch (err) {
      if (BusError.is(err, "wrong_revision")) return;
      throw err;
    }
    logger.warn(
      { gateway: gatewayId, deadGateway: deadGatewayId, lastHeartbeatMs: heartbeat.at },
      "gateway stopped renewing its heartbeat: reporting its connections lost",
    );
    await reap(deadGatewayId);
    // Only if the claim is still ours: the dead gateway may have come back and rejoined meanwhile.
    const after = await kv.get(entryKey);
    if (after && decodeHeartbeat(after.value)?.reapedBy === gatewayId) await kv.delete(entryKey);
  };

  const sweep = async (): Promise<void> => {
    for await (const entryKey of kv.keys(HEARTBEAT_KEY_FILTER)) {
      const other = parseHeartbeatKey(entryKey);
      if (other === undefined || other === gatewayId) continue;
      const entry = await kv.get(entryKey);
      const heartbeat = entry && decodeHeartbeat(entry.value);
      if (!entry || !heartbeat || !isStale(heartbeat, Date.now())) continue;
      try {
        await takeOver(other, entryKey, entry.revision, heartbeat);
      } catch (err) {
        logger.error({ err, gateway: gatewayId, deadGateway: other }, "could not clean up after a dead gateway");
      }
    }
  };

  return {
    get joined() {
      return revision !== undefined;
    },
    join,
    async tick() {
      try {
        await renew();
      } catch (err) {
        logger.warn({ err, gateway: gatewayId }, "could not renew the gateway heartbeat");
      }
      try {
        await sweep();
      } catch (err) {
        logger.warn({ err, gateway: gatewayId }, "could not check the other gateways' heartbeats");
      }
    },
    async leave() {
      if (revision === undefined) return;
      revision = undefined;
      await kv.delete(key);
    },
  };
}
