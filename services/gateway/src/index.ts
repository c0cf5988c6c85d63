/**
 * The WebSocket gateway service: owns plugins' outbound sockets in a cluster, and the bus-backed
 * client workers give to the `websocket` host functions to reach it.
 */
export { DEFAULT_GATEWAY_TIMEOUT_MS, createBusGatewayClient, type BusGatewayClientOptions } from "./client.js";
export {
  DEFAULT_GATEWAY_LIMITS,
  DEFAULT_HEARTBEAT_MS,
  createGateway,
  type Gateway,
  type GatewayLimits,
  type GatewayOptions,
  type GatewayState,
} from "./gateway.js";
export { startGateway } from "./main.js";
export { GATEWAY_QUEUE, GatewayHeader, heartbeatKey, ownerKey } from "./protocol.js";
/** For readers of the ownership table (the status page). */
export {
  HEARTBEAT_KEY_FILTER,
  decodeGatewayId,
  decodeHeartbeat,
  isStale,
  ownerKeyFilter,
  parseHeartbeatKey,
  parseOwnerKey,
  type GatewayHeartbeat,
} from "./protocol.js";
