/** The `websocket` host service: permission-checked plugin sockets behind a gateway. */
export {
  CONNECTION_BLOCKED_PREFIX,
  CONNECTION_NOT_FOUND,
  ConnectionNotFoundError,
  type WebSocketConnectRequest,
  type WebSocketEvent,
  type WebSocketGatewayClient,
} from "./gateway-client.js";
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  createLocalWebSocketGateway,
  type LocalWebSocketGateway,
  type LocalWebSocketGatewayOptions,
} from "./local-gateway.js";
export { generateConnectionId } from "./connection-id.js";
export { createWebSocketFunctions } from "./functions.js";
