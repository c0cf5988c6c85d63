/**
 * The `WebSocketGatewayClient` of a worker in a cluster: the `websocket` host functions reach the
 * gateway service over the bus (protocol.ts). A connect goes to any gateway; everything else goes
 * to the gateway that owns the connection, found in the websockets KV bucket.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BusError, GatewayMethod, encodeToken, storageNames, subjects, type Bus, type BusMessage, type Headers } from "@tonearm/bus";
import {
  ConnectionNotFoundError,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type WebSocketConnectRequest,
  type WebSocketGatewayClient,
} from "@tonearm/host";
import { websocketHost } from "@tonearm/proto";
import { ownershipTable, type OwnershipTable } from "./ownership.js";
import { CONNECTION_NOT_FOUND_CODE, GatewayHeader } from "./protocol.js";

export interface BusGatewayClientOptions {
  /**
   * How long to wait for a gateway's answer; a connect waits for the opening handshake too, so
   * keep this above the gateways' handshake timeout.
   * @default 50000
   */
  readonly timeoutMs?: number;
}

export const DEFAULT_GATEWAY_TIMEOUT_MS = DEFAULT_HANDSHAKE_TIMEOUT_MS + 5_000;

/** The responses of SendText, SendBinary and Close: nothing but an `error`. */
type ErrorOnlyResponse =
  | typeof websocketHost.SendTextResponseSchema
  | typeof websocketHost.SendBinaryResponseSchema
  | typeof websocketHost.CloseResponseSchema;

const CONNECT_FAILED = "failed to connect to WebSocket server: ";
const SEND_FAILED = "failed to send message: ";
const CLOSE_FAILED = "failed to close connection: ";

export function createBusGatewayClient(bus: Bus, namespace: string, options: BusGatewayClientOptions = {}): WebSocketGatewayClient {
  const subject = subjects(namespace);
  const timeoutMs = options.timeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS;
  let table: Promise<OwnershipTable> | undefined;
  const owners = (): Promise<OwnershipTable> => {
    table ??= bus.kv(storageNames(namespace).websocketsBucket).then(ownershipTable, (err: unknown) => {
      table = undefined;
      throw err;
    });
    return table;
  };

  /** Sends a request to the connection's owner and returns its response, or throws its error. */
  const forward = async (
    method: GatewayMethod,
    pluginId: string,
    connectionId: string,
    request: Uint8Array,
    responseSchema: ErrorOnlyResponse,
    failurePrefix: string,
  ): Promise<void> => {
    if (connectionId === "") throw new ConnectionNotFoundError();
    let owner: string | undefined;
    try {
      owner = await (await owners()).owner(pluginId, connectionId);
    } catch (err) {
      throw new Error(`${failurePrefix}cannot look up the connection's gateway: ${describe(err)}`, { cause: err });
    }
    if (owner === undefined) throw new ConnectionNotFoundError();
    let reply: BusMessage;
    try {
      reply = await bus.request(subject.gatewayInstance(owner, method), request, { timeoutMs, headers: pluginHeaders(pluginId) });
    } catch (err) {
      // The owner is gone and its sockets with it; a surviving gateway tells the plugin (OnError).
      if (BusError.is(err, "no_responders")) throw new ConnectionNotFoundError();
      throw new Error(`${failurePrefix}gateway ${owner} did not answer: ${describe(err)}`, { cause: err });
    }
    if (reply.headers[GatewayHeader.ErrorCode] === CONNECTION_NOT_FOUND_CODE) throw new ConnectionNotFoundError();
    const { error } = fromBinary(responseSchema, reply.data);
    if (error !== "") throw new Error(error);
  };

  return {
    async connect(request: WebSocketConnectRequest) {
      const data = toBinary(
        websocketHost.ConnectRequestSchema,
        create(websocketHost.ConnectRequestSchema, { url: request.url, headers: { ...request.headers }, connectionId: request.connectionId }),
      );
      const headers = { ...pluginHeaders(request.pluginId), [GatewayHeader.AllowLocalNetwork]: String(request.allowLocalNetwork) };
      let reply: BusMessage;
      try {
        reply = await bus.request(subject.gateway(GatewayMethod.Connect), data, { timeoutMs, headers });
      } catch (err) {
        if (BusError.is(err, "no_responders")) throw new Error(`${CONNECT_FAILED}no WebSocket gateway is running`, { cause: err });
        throw new Error(`${CONNECT_FAILED}no WebSocket gateway answered: ${describe(err)}`, { cause: err });
      }
      const response = fromBinary(websocketHost.ConnectResponseSchema, reply.data);
      if (response.error !== "") throw new Error(response.error);
      return { connectionId: response.connectionId };
    },

    sendText(pluginId, connectionId, message) {
      const data = toBinary(websocketHost.SendTextRequestSchema, create(websocketHost.SendTextRequestSchema, { connectionId, message }));
      return forward(GatewayMethod.SendText, pluginId, connectionId, data, websocketHost.SendTextResponseSchema, SEND_FAILED);
    },

    sendBinary(pluginId, connectionId, bytes) {
      const data = toBinary(websocketHost.SendBinaryRequestSchema, create(websocketHost.SendBinaryRequestSchema, { connectionId, data: bytes }));
      return forward(GatewayMethod.SendBinary, pluginId, connectionId, data, websocketHost.SendBinaryResponseSchema, SEND_FAILED);
    },

    close(pluginId, connectionId, code, reason) {
      const data = toBinary(websocketHost.CloseRequestSchema, create(websocketHost.CloseRequestSchema, { connectionId, code, reason }));
      return forward(GatewayMethod.Close, pluginId, connectionId, data, websocketHost.CloseResponseSchema, CLOSE_FAILED);
    },
  };
}

function pluginHeaders(pluginId: string): Headers {
  return { [GatewayHeader.Plugin]: encodeToken(pluginId) };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
