/**
 * The port between the `websocket` host functions and whatever holds the sockets: in embedded mode
 * an in-process gateway, in a cluster the gateway service. Sockets outlive the plugin call (and the
 * wasm instance) that opened them; what arrives on them comes back as WebSocketEvents.
 *
 * Every method rejects with an Error whose message is the text the plugin gets in the response's
 * `error` field (Navidrome's wording, ABI.md §9).
 */

/** Prefix of a refused connection in `ConnectResponse.error` (Navidrome's text). */
export const CONNECTION_BLOCKED_PREFIX = "Connection blocked by plugin permissions: ";

/** Navidrome's answer for an id that names no open connection of the calling plugin. */
export const CONNECTION_NOT_FOUND = "connection not found";

export class ConnectionNotFoundError extends Error {
  override readonly name = "ConnectionNotFoundError";
  constructor() {
    super(CONNECTION_NOT_FOUND);
  }
}

export interface WebSocketConnectRequest {
  readonly pluginId: string;
  readonly url: string;
  /** One value per header, sent with the opening handshake. */
  readonly headers: Readonly<Record<string, string>>;
  /** The plugin's id for the connection; empty to have one generated. */
  readonly connectionId: string;
  /** The permission's `allowLocalNetwork`: without it, a URL that resolves to a local address is refused. */
  readonly allowLocalNetwork: boolean;
}

export interface WebSocketGatewayClient {
  /** Opens a connection, replacing any open one with the same plugin and id. Resolves with the id in use. */
  connect(request: WebSocketConnectRequest): Promise<{ readonly connectionId: string }>;
  sendText(pluginId: string, connectionId: string, text: string): Promise<void>;
  sendBinary(pluginId: string, connectionId: string, data: Uint8Array): Promise<void>;
  /** Sends a close frame and forgets the connection; nothing more is reported for it. */
  close(pluginId: string, connectionId: string, code: number, reason: string): Promise<void>;
}

interface WebSocketEventBase {
  readonly pluginId: string;
  readonly connectionId: string;
}

/**
 * What a connection reports to its plugin, in arrival order. `error` and `close` end the connection;
 * exactly one of them is reported unless the plugin closed the connection itself.
 */
export type WebSocketEvent =
  | (WebSocketEventBase & { readonly kind: "text"; readonly message: string })
  | (WebSocketEventBase & { readonly kind: "binary"; readonly data: Uint8Array })
  | (WebSocketEventBase & { readonly kind: "error"; readonly error: string })
  | (WebSocketEventBase & { readonly kind: "close"; readonly code: number; readonly reason: string });
