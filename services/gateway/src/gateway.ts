/**
 * The WebSocket gateway service: owns plugins' outbound sockets (through the host's in-process
 * gateway over `ws`), serves the `websocket` host functions that workers forward over the bus
 * (protocol.ts), records which gateway owns which connection, and turns what arrives on a socket
 * into WebSocketCallback calls to the plugin, strictly in order per connection.
 *
 * Ownership of a connection is recorded before any of its events is delivered, so a plugin reacting
 * to an event can already reach the socket; the end of a connection removes the record before the
 * plugin hears of it, so a plugin reconnecting with the same id is never undone.
 */
import { randomBytes } from "node:crypto";
import type { LookupFunction } from "node:net";
import { hostname } from "node:os";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import {
  BusError,
  GatewayMethod,
  callPlugin,
  decodeToken,
  encodeToken,
  storageNames,
  subjects,
  type Bus,
  type BusLogger,
  type BusMessage,
  type Headers,
  type Subscription,
} from "@tonearm/bus";
import {
  ConnectionNotFoundError,
  createLocalWebSocketGateway,
  generateConnectionId,
  websocketCallbackCall,
  type WebSocketConnectRequest,
  type WebSocketEvent,
} from "@tonearm/host";
import { websocketHost } from "@tonearm/proto";
import { createLogger } from "@tonearm/telemetry";
import { createLiveness, type Liveness } from "./liveness.js";
import { OrderedTasks } from "./ordered-tasks.js";
import { ownershipTable, type ConnectionRef, type OwnerMatch, type OwnershipTable } from "./ownership.js";
import { CONNECTION_NOT_FOUND_CODE, GATEWAY_QUEUE, GatewayHeader, ownerKey } from "./protocol.js";

export interface GatewayLimits {
  /** Connections one plugin may hold open across all gateways. @default 16 */
  readonly maxConnectionsPerPlugin?: number;
  /**
   * Largest message in either direction, in bytes: a bigger incoming one fails its connection
   * (close code 1009, reported to the plugin), a bigger outgoing one is refused. @default 1048576
   */
  readonly maxMessageBytes?: number;
  /** Every connection is pinged this often; one that misses a pong is dropped. @default 30000 */
  readonly pingIntervalMs?: number;
}

export const DEFAULT_GATEWAY_LIMITS: Required<GatewayLimits> = Object.freeze({
  maxConnectionsPerPlugin: 16,
  maxMessageBytes: 1024 * 1024,
  pingIntervalMs: 30_000,
});

/** A dead gateway's connections are reported lost within about four of these. */
export const DEFAULT_HEARTBEAT_MS = 5_000;

export interface GatewayOptions {
  readonly bus: Bus;
  readonly namespace: string;
  /** Names this gateway's subjects and heartbeat; unique among running gateways. @default `<hostname>-<random>` */
  readonly gatewayId?: string;
  readonly limits?: GatewayLimits;
  /** How often the heartbeat is renewed and the other gateways' are checked. @default 5000 */
  readonly heartbeatMs?: number;
  /** Limit for a WebSocket opening handshake. @default 45000 */
  readonly handshakeTimeoutMs?: number;
  /** Resolver for outbound connections (the local-network rule checks what it answers). @default dns.lookup */
  readonly lookup?: LookupFunction;
  /** Limit for each WebSocketCallback call. @default 30000 */
  readonly callbackTimeoutMs?: number;
  /** @default a pino logger named `gateway` on stdout */
  readonly logger?: BusLogger;
}

/** `created` → `starting` → `running` → `stopping` → `stopped`; a failed start goes to `stopped`. */
export type GatewayState = "created" | "starting" | "running" | "stopping" | "stopped";

export interface Gateway {
  readonly id: string;
  readonly state: GatewayState;
  /** Joins the cluster (heartbeat) and starts serving; resolves once requests can arrive. */
  start(): Promise<void>;
  /**
   * Stops serving, closes every socket (code 1001) telling each plugin with OnError, and leaves
   * the cluster. Idempotent; every step runs even when one fails.
   */
  stop(): Promise<void>;
}

/** Who the callback calls come from, for the workers' logs and metrics. */
const CALLER = "gateway";
const CONNECT_FAILED = "failed to connect to WebSocket server: ";
const GOING_AWAY = 1001;
/** How long a connect waits for the gateway that holds the socket it replaces. */
const REPLACE_TIMEOUT_MS = 5_000;

/** One socket of this gateway, from the moment it opens. */
interface OpenConnection extends ConnectionRef {
  readonly key: string;
  /** Revision of its ownership entry, once recorded. */
  revision?: number;
}

class GatewayRequestError extends Error {
  override readonly name = "GatewayRequestError";
}

export function createGateway(options: GatewayOptions): Gateway {
  const { bus, namespace } = options;
  const id = options.gatewayId ?? `${hostname()}-${randomBytes(4).toString("hex")}`;
  const limits = { ...DEFAULT_GATEWAY_LIMITS, ...options.limits };
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  checkPositive("limits.maxConnectionsPerPlugin", limits.maxConnectionsPerPlugin);
  checkPositive("limits.maxMessageBytes", limits.maxMessageBytes);
  checkPositive("limits.pingIntervalMs", limits.pingIntervalMs);
  checkPositive("heartbeatMs", heartbeatMs);
  const subject = subjects(namespace);
  const logger = options.logger ?? createLogger({ name: "gateway" });

  let state: GatewayState = "created";
  let owners: OwnershipTable | undefined;
  let liveness: Liveness | undefined;
  const subscriptions: Subscription[] = [];
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let tickRunning: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;

  /** Sockets by owner key: the one whose events the local gateway currently reports. */
  const current = new Map<string, OpenConnection>();
  /** Connects whose socket has not opened yet. */
  const opening = new Map<WebSocketConnectRequest, OpenConnection>();
  const callbacks = new OrderedTasks((err, key) => logger.error({ err, gateway: id, connection: key }, "WebSocket event handling failed"));

  const sockets = createLocalWebSocketGateway({
    onOpen(request) {
      const connection = opening.get(request);
      if (connection) current.set(connection.key, connection);
    },
    onEvent: (event) => handleSocketEvent(event),
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    lookup: options.lookup,
    maxPayloadBytes: limits.maxMessageBytes,
    pingIntervalMs: limits.pingIntervalMs,
  });

  const table = (): OwnershipTable => {
    if (!owners) throw new Error(`gateway ${id} is not running`);
    return owners;
  };

  const release = async (connection: ConnectionRef, match: OwnerMatch): Promise<void> => {
    try {
      await table().release(connection.pluginId, connection.connectionId, match);
    } catch (err) {
      logger.error({ err, gateway: id, ...connection }, "could not remove a connection's ownership entry");
    }
  };

  /** Calls the plugin's WebSocketCallback for the event; failures are logged, never thrown. */
  const deliver = async (event: WebSocketEvent): Promise<void> => {
    const call = websocketCallbackCall(event);
    try {
      await callPlugin(bus, namespace, {
        plugin: call.pluginId,
        capability: call.capability,
        method: call.method,
        request: call.request,
        caller: CALLER,
        ...(options.callbackTimeoutMs === undefined ? {} : { timeoutMs: options.callbackTimeoutMs }),
      });
    } catch (err) {
      logger.warn(
        { err, gateway: id, plugin: call.pluginId, connectionId: event.connectionId, method: call.method },
        "WebSocketCallback call failed",
      );
    }
  };

  /** Reports to the plugin that a connection is gone, after its earlier events. */
  const reportLost = (connection: ConnectionRef, error: string): void => {
    callbacks.enqueue(ownerKey(connection.pluginId, connection.connectionId), () =>
      deliver({ ...connection, kind: "error", error }),
    );
  };

  function handleSocketEvent(event: WebSocketEvent): void {
    const key = ownerKey(event.pluginId, event.connectionId);
    const ends = event.kind === "error" || event.kind === "close";
    // Taken now: by the time the task runs, a socket with the same id may have replaced this one.
    const connection = current.get(key);
    if (ends && connection) current.delete(key);
    callbacks.enqueue(key, async () => {
      if (ends && connection?.revision !== undefined) await release(connection, { revision: connection.revision });
      await deliver(event);
    });
  }

  // ---- requests from workers -------------------------------------------------------------------

  const connect = async (message: BusMessage): Promise<MessageInitShape<typeof websocketHost.ConnectResponseSchema>> => {
    const pluginId = pluginOf(message);
    const request = fromBinary(websocketHost.ConnectRequestSchema, message.data);
    if (state !== "running" || !liveness?.joined) throw new Error(`${CONNECT_FAILED}gateway ${id} is not taking connections`);
    const connectionId = request.connectionId || generateConnectionId();
    // Counted before dialling: connects of one plugin racing on several gateways may overshoot by
    // their number, which beats holding a cluster-wide lock across a 45 s handshake.
    const open = await table().count(pluginId, connectionId);
    if (open >= limits.maxConnectionsPerPlugin) {
      throw new Error(`too many WebSocket connections for plugin ${pluginId} (max ${limits.maxConnectionsPerPlugin})`);
    }

    const key = ownerKey(pluginId, connectionId);
    const connection: OpenConnection = { pluginId, connectionId, key };
    const connectRequest: WebSocketConnectRequest = {
      pluginId,
      url: request.url,
      headers: request.headers,
      connectionId,
      allowLocalNetwork: message.headers[GatewayHeader.AllowLocalNetwork] === "true",
    };
    // The socket's events wait behind this until its ownership is recorded (or the connect failed).
    let settle!: () => void;
    const recorded = new Promise<void>((resolve) => (settle = resolve));
    callbacks.enqueue(key, () => recorded);
    opening.set(connectRequest, connection);
    try {
      await sockets.connect(connectRequest);
      await recordOwnership(connection);
    } finally {
      opening.delete(connectRequest);
      settle();
    }
    return { connectionId };
  };

  /** Records this gateway as the owner of a socket that just opened, or closes it again. */
  const recordOwnership = async (connection: OpenConnection): Promise<void> => {
    const { pluginId, connectionId } = connection;
    try {
      if (state !== "running") throw new Error(`gateway ${id} is stopping`);
      await closeElsewhere(pluginId, connectionId);
      connection.revision = await table().record(pluginId, connectionId, id);
      // Declared dead meanwhile: whatever it records now would be reported lost at once.
      if (!liveness?.joined) throw new Error(`gateway ${id} is rejoining the cluster`);
    } catch (err) {
      if (current.get(connection.key) === connection) {
        current.delete(connection.key);
        await sockets.close(pluginId, connectionId, GOING_AWAY, "").catch(() => undefined);
      }
      if (connection.revision !== undefined) await release(connection, { revision: connection.revision });
      throw new Error(`${CONNECT_FAILED}${describe(err)}`, { cause: err });
    }
  };

  /** A connection re-using an id replaces the old one, even when another gateway holds it. */
  const closeElsewhere = async (pluginId: string, connectionId: string): Promise<void> => {
    const previous = await table().owner(pluginId, connectionId);
    if (previous === undefined || previous === id) return;
    const request = toBinary(
      websocketHost.CloseRequestSchema,
      create(websocketHost.CloseRequestSchema, { connectionId, code: GOING_AWAY, reason: "replaced" }),
    );
    try {
      await bus.request(subject.gatewayInstance(previous, GatewayMethod.Close), request, {
        timeoutMs: REPLACE_TIMEOUT_MS,
        headers: { [GatewayHeader.Plugin]: encodeToken(pluginId) },
      });
    } catch (err) {
      // A gateway that is gone has lost the socket already; a surviving one reports it lost.
      if (!BusError.is(err, "no_responders")) throw err;
    }
  };

  const sendText = async (message: BusMessage): Promise<MessageInitShape<typeof websocketHost.SendTextResponseSchema>> => {
    const pluginId = pluginOf(message);
    const request = fromBinary(websocketHost.SendTextRequestSchema, message.data);
    checkOutgoingSize(Buffer.byteLength(request.message));
    await sockets.sendText(pluginId, request.connectionId, request.message);
    return {};
  };

  const sendBinary = async (message: BusMessage): Promise<MessageInitShape<typeof websocketHost.SendBinaryResponseSchema>> => {
    const pluginId = pluginOf(message);
    const request = fromBinary(websocketHost.SendBinaryRequestSchema, message.data);
    checkOutgoingSize(request.data.byteLength);
    await sockets.sendBinary(pluginId, request.connectionId, request.data);
    return {};
  };

  const close = async (message: BusMessage): Promise<MessageInitShape<typeof websocketHost.CloseResponseSchema>> => {
    const pluginId = pluginOf(message);
    const request = fromBinary(websocketHost.CloseRequestSchema, message.data);
    const ref = { pluginId, connectionId: request.connectionId };
    const key = ownerKey(pluginId, request.connectionId);
    const connection = current.get(key);
    try {
      await sockets.close(pluginId, request.connectionId, request.code, request.reason);
    } catch (err) {
      // An entry naming this gateway for a socket it does not have is stale: heal it.
      if (err instanceof ConnectionNotFoundError) await release(ref, { gatewayId: id });
      throw err;
    }
    if (current.get(key) === connection) current.delete(key);
    if (connection?.revision !== undefined) await release(ref, { revision: connection.revision });
    return {};
  };

  const checkOutgoingSize = (bytes: number): void => {
    if (bytes > limits.maxMessageBytes) {
      throw new Error(`failed to send message: message of ${bytes} bytes exceeds the limit of ${limits.maxMessageBytes} bytes`);
    }
  };

  /** Subscribes `handle`, answering with its response or with its error in the response's `error`. */
  const serve = <S extends DescMessage>(
    subjectName: string,
    queue: string | undefined,
    responseSchema: S,
    handle: (message: BusMessage) => Promise<MessageInitShape<S>>,
  ): void => {
    const subscription = bus.subscribe(subjectName, queue === undefined ? {} : { queue }, async (message) => {
      let response: MessageInitShape<S>;
      const headers: Headers = {};
      try {
        response = await handle(message);
      } catch (err) {
        if (err instanceof ConnectionNotFoundError) headers[GatewayHeader.ErrorCode] = CONNECTION_NOT_FOUND_CODE;
        else if (!(err instanceof GatewayRequestError)) logger.info({ err, gateway: id, subject: subjectName }, "gateway request failed");
        // Every response of the websocket host service carries its failure in `error`.
        response = { error: describe(err) } as unknown as MessageInitShape<S>;
      }
      bus.respond(message, toBinary(responseSchema, create(responseSchema, response)), { headers });
    });
    subscriptions.push(subscription);
  };

  // ---- lifecycle -------------------------------------------------------------------------------

  const tick = (): void => {
    if (tickRunning || !liveness) return;
    tickRunning = liveness.tick().finally(() => (tickRunning = undefined));
  };

  const start = async (): Promise<void> => {
    if (state !== "created") throw new Error(`gateway ${id} cannot start: it is ${state}`);
    state = "starting";
    const stillStarting = (): void => {
      if (state !== "starting") throw new Error(`gateway ${id} was stopped while starting`);
    };
    try {
      const kv = await bus.kv(storageNames(namespace).websocketsBucket);
      stillStarting();
      owners = ownershipTable(kv);
      liveness = createLiveness({
        kv,
        owners,
        gatewayId: id,
        heartbeatMs,
        logger,
        onFenced() {
          current.clear();
          sockets.closeAll();
        },
        onConnectionLost: (connection, deadGatewayId) => reportLost(connection, `gateway ${deadGatewayId} stopped: connection lost`),
      });
      // Another gateway may still be cleaning up after an earlier life of this id: wait for it.
      while (!(await liveness.join())) {
        stillStarting();
        await delay(heartbeatMs);
      }
      stillStarting();
      serve(subject.gateway(GatewayMethod.Connect), GATEWAY_QUEUE, websocketHost.ConnectResponseSchema, connect);
      serve(subject.gatewayInstance(id, GatewayMethod.SendText), undefined, websocketHost.SendTextResponseSchema, sendText);
      serve(subject.gatewayInstance(id, GatewayMethod.SendBinary), undefined, websocketHost.SendBinaryResponseSchema, sendBinary);
      serve(subject.gatewayInstance(id, GatewayMethod.Close), undefined, websocketHost.CloseResponseSchema, close);
      await bus.flush();
      stillStarting();
      heartbeatTimer = setInterval(tick, heartbeatMs);
      state = "running";
      logger.info({ gateway: id, heartbeatMs, ...limits }, "WebSocket gateway started");
    } catch (err) {
      await stop();
      // A stop that came while joining could not see the heartbeat written meanwhile.
      await liveness?.leave().catch(() => undefined);
      throw err;
    }
  };

  /** Every step runs even when an earlier one failed. */
  const shutDown = async (): Promise<void> => {
    const wasRunning = state === "running";
    state = "stopping";
    clearInterval(heartbeatTimer);
    const step = async (what: string, run: () => unknown): Promise<void> => {
      try {
        await run();
      } catch (err) {
        logger.warn({ err, gateway: id }, `gateway stop: could not ${what}`);
      }
    };
    // In-flight requests finish (a connect that opens now is closed again: the state says stopping).
    await step("drain its subscriptions", () => Promise.all(subscriptions.map((s) => s.drain())));
    await step("finish the heartbeat in progress", () => tickRunning);
    for (const connection of [...current.values()]) {
      current.delete(connection.key);
      await step("close a connection", () => sockets.close(connection.pluginId, connection.connectionId, GOING_AWAY, "gateway stopping"));
      if (connection.revision !== undefined) await release(connection, { revision: connection.revision });
      reportLost(connection, `gateway ${id} stopped: shutting down`);
    }
    sockets.closeAll();
    await step("deliver the last WebSocket events", () => callbacks.idle());
    await step("remove its heartbeat", () => liveness?.leave());
    state = "stopped";
    if (wasRunning) logger.info({ gateway: id }, "WebSocket gateway stopped");
  };

  const stop = (): Promise<void> => (stopped ??= shutDown());

  return {
    id,
    get state() {
      return state;
    },
    start,
    stop,
  };
}

/** The calling plugin, from the request's header. */
function pluginOf(message: BusMessage): string {
  const token = message.headers[GatewayHeader.Plugin];
  if (token === undefined) throw new GatewayRequestError(`invalid gateway request: no ${GatewayHeader.Plugin} header`);
  try {
    return decodeToken(token);
  } catch (err) {
    throw new GatewayRequestError(`invalid gateway request: ${describe(err)}`, { cause: err });
  }
}

function checkPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`gateway option ${name} must be a positive number, got ${value}`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
