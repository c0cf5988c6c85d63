/**
 * The in-process WebSocket gateway over `ws`: the embedded mode's, and the engine of the cluster's
 * gateway service. Connections are keyed by plugin and connection id, so one plugin can neither
 * see nor close another's, and ids may contain any character.
 *
 * Deviations from Navidrome (DESIGN.md §6): a dial failure is answered in `error` instead of
 * trapping; a close frame from the server is reported as `close` (Navidrome turns it into an
 * error); re-using an open id closes the old socket instead of leaking it; no 60 s read deadline.
 */
import type { LookupFunction } from "node:net";
import WebSocket from "ws";
import { assertLiteralAddressAllowed, findBlockedAddressError, networkLookup } from "../network-guard.js";
import { canonicalHeaderKey } from "../http/headers.js";
import { generateConnectionId } from "./connection-id.js";
import {
  CONNECTION_BLOCKED_PREFIX,
  ConnectionNotFoundError,
  type WebSocketConnectRequest,
  type WebSocketEvent,
  type WebSocketGatewayClient,
} from "./gateway-client.js";

export interface LocalWebSocketGatewayOptions {
  /** Receives what the connections report, in order per connection. Must not throw. */
  readonly onEvent: (event: WebSocketEvent) => void;
  /**
   * Told synchronously when the socket of `request` opens (before `connect` resolves and before any
   * event of it), so a caller can tell the events of a replaced socket from its successor's. Must not throw.
   */
  readonly onOpen?: (request: WebSocketConnectRequest, connectionId: string) => void;
  /** Resolver for every connection (the local-network rule checks what it answers). @default dns.lookup */
  readonly lookup?: LookupFunction;
  /** Limit for the opening handshake. @default 45000 (gorilla's default dialer) */
  readonly handshakeTimeoutMs?: number;
  /**
   * Largest message accepted from a server; a bigger one fails the connection (close code 1009),
   * reported as `error`. @default 104857600 (ws's default)
   */
  readonly maxPayloadBytes?: number;
  /**
   * Pings every connection this often and drops one that left the previous ping unanswered, so a
   * silently dead peer is noticed. Absent: no keepalive.
   */
  readonly pingIntervalMs?: number;
}

export interface LocalWebSocketGateway extends WebSocketGatewayClient {
  /** Drops every connection at once, reporting nothing. */
  closeAll(): void;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 45_000;

const CONNECT_FAILED_PREFIX = "failed to connect to WebSocket server: ";
/** gorilla refuses to dial when a request sets a header the handshake owns. */
const HANDSHAKE_HEADERS = new Set(["Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions"]);
/** gorilla's text when a socket ends without a close frame. */
const ABNORMAL_CLOSURE = "websocket: close 1006 (abnormal closure): unexpected EOF";
const NORMAL_CLOSURE = 1000;

export function createLocalWebSocketGateway(options: LocalWebSocketGatewayOptions): LocalWebSocketGateway {
  const byPlugin = new Map<string, Map<string, WebSocket>>();
  const handshakeTimeout = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;

  const find = (pluginId: string, connectionId: string): WebSocket => {
    const socket = byPlugin.get(pluginId)?.get(connectionId);
    if (!socket) throw new ConnectionNotFoundError();
    return socket;
  };
  const isCurrent = (pluginId: string, connectionId: string, socket: WebSocket): boolean =>
    byPlugin.get(pluginId)?.get(connectionId) === socket;
  const forget = (pluginId: string, connectionId: string): void => {
    const connections = byPlugin.get(pluginId);
    connections?.delete(connectionId);
    if (connections?.size === 0) byPlugin.delete(pluginId);
  };
  const register = (pluginId: string, connectionId: string, socket: WebSocket): void => {
    let connections = byPlugin.get(pluginId);
    if (!connections) byPlugin.set(pluginId, (connections = new Map<string, WebSocket>()));
    connections.get(connectionId)?.terminate();
    connections.set(connectionId, socket);
  };

  /** Reports what arrives on an open socket while it is the registered one. */
  const watch = (pluginId: string, connectionId: string, socket: WebSocket): void => {
    let failure: string | undefined;
    const stopKeepalive =
      options.pingIntervalMs === undefined
        ? ignore
        : keepAlive(socket, options.pingIntervalMs, () => {
            failure ??= `websocket: no pong received within ${options.pingIntervalMs} ms`;
          });
    socket.on("message", (data, isBinary) => {
      if (!isCurrent(pluginId, connectionId, socket)) return;
      const bytes = toBuffer(data);
      if (isBinary) options.onEvent({ pluginId, connectionId, kind: "binary", data: new Uint8Array(bytes) });
      else options.onEvent({ pluginId, connectionId, kind: "text", message: bytes.toString("utf8") });
    });
    socket.on("error", (err) => {
      failure ??= err.message;
    });
    socket.on("close", (code, reason) => {
      stopKeepalive();
      if (!isCurrent(pluginId, connectionId, socket)) return;
      forget(pluginId, connectionId);
      if (failure !== undefined || code === 1006) {
        options.onEvent({ pluginId, connectionId, kind: "error", error: failure ?? ABNORMAL_CLOSURE });
      } else {
        options.onEvent({ pluginId, connectionId, kind: "close", code, reason: reason.toString("utf8") });
      }
    });
  };

  return {
    async connect(request: WebSocketConnectRequest) {
      const connectionId = request.connectionId || generateConnectionId();
      const { pluginId } = request;
      const url = parseWebSocketUrl(request.url);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(request.headers)) {
        const canonical = canonicalHeaderKey(key);
        if (HANDSHAKE_HEADERS.has(canonical)) {
          throw new Error(`${CONNECT_FAILED_PREFIX}websocket: duplicate header not allowed: ${canonical}`);
        }
        headers[canonical] = value;
      }
      const access = { allowLocalNetwork: request.allowLocalNetwork, lookup: options.lookup };
      try {
        assertLiteralAddressAllowed(url.hostname, access);
      } catch (err) {
        throw connectError(err);
      }

      let socket: WebSocket;
      try {
        socket = new WebSocket(url, {
          headers,
          lookup: networkLookup(access),
          handshakeTimeout,
          ...(options.maxPayloadBytes === undefined ? {} : { maxPayload: options.maxPayloadBytes }),
          followRedirects: false,
          perMessageDeflate: false,
        });
      } catch (err) {
        throw connectError(err);
      }
      // Errors after the first (a handshake can fail more than once) must not go unhandled.
      socket.on("error", ignore);
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => {
          socket.off("open", onOpen);
          reject(connectError(err));
        };
        const onOpen = (): void => {
          socket.off("error", onError);
          // Registered before any message can be dispatched, so none is lost.
          register(pluginId, connectionId, socket);
          options.onOpen?.(request, connectionId);
          watch(pluginId, connectionId, socket);
          resolve();
        };
        socket.once("error", onError);
        socket.once("open", onOpen);
      });
      return { connectionId };
    },

    async sendText(pluginId, connectionId, text) {
      await send(find(pluginId, connectionId), text, false);
    },

    async sendBinary(pluginId, connectionId, data) {
      await send(find(pluginId, connectionId), data, true);
    },

    close(pluginId, connectionId, code, reason) {
      return new Promise<void>((resolve) => {
        const socket = find(pluginId, connectionId);
        forget(pluginId, connectionId);
        // Code 0 (unset in the request) and other codes no frame may carry become a normal closure.
        const closeCode = isValidCloseCode(code) ? code : NORMAL_CLOSURE;
        try {
          socket.close(closeCode, reason);
        } catch {
          // A reason over 123 bytes cannot go into a close frame; close without it rather than not at all.
          socket.close(closeCode);
        }
        resolve();
      });
    },

    closeAll() {
      for (const connections of byPlugin.values()) for (const socket of connections.values()) socket.terminate();
      byPlugin.clear();
    },
  };
}

function ignore(): void {}

/** Pings `socket` every `intervalMs`; a ping still unanswered at the next tick ends it. Returns the stop. */
function keepAlive(socket: WebSocket, intervalMs: number, onUnanswered: () => void): () => void {
  let answered = true;
  const onPong = (): void => {
    answered = true;
  };
  socket.on("pong", onPong);
  const timer = setInterval(() => {
    if (socket.readyState !== WebSocket.OPEN) return;
    if (!answered) {
      onUnanswered();
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
  }, intervalMs);
  // Keepalive alone must not hold the process open.
  timer.unref();
  return () => {
    clearInterval(timer);
    socket.off("pong", onPong);
  };
}

function send(socket: WebSocket, data: string | Uint8Array, binary: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(data, { binary }, (err) => {
      if (err) reject(new Error(`failed to send message: ${err.message}`));
      else resolve();
    });
  });
}

function parseWebSocketUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "ws:" && url.protocol !== "wss:")) {
    throw new Error(`${CONNECT_FAILED_PREFIX}malformed ws or wss URL`);
  }
  return url;
}

function connectError(err: unknown): Error {
  const blocked = findBlockedAddressError(err);
  if (blocked) return new Error(CONNECTION_BLOCKED_PREFIX + blocked.message, { cause: err });
  return new Error(CONNECT_FAILED_PREFIX + (err instanceof Error ? err.message : String(err)), { cause: err });
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Codes an endpoint may put in a close frame (RFC 6455 §7.4). */
function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}
