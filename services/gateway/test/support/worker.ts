// The worker's side: the `websocket` host functions over the bus client, called as a plugin's
// imports would call them.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { Bus } from "@tonearm/bus";
import { createWebSocketFunctions, type MainContext } from "@tonearm/host";
import { websocketHost } from "@tonearm/proto";
import { createBusGatewayClient } from "../../src/index.js";

export interface WorkerFunctions {
  connect(
    pluginId: string,
    request: MessageInitShape<typeof websocketHost.ConnectRequestSchema>,
  ): Promise<MessageShape<typeof websocketHost.ConnectResponseSchema>>;
  sendText(pluginId: string, connectionId: string, message: string): Promise<string>;
  sendBinary(pluginId: string, connectionId: string, data: Uint8Array): Promise<string>;
  close(pluginId: string, connectionId: string, code?: number, reason?: string): Promise<string>;
}

/** Every plugin may connect anywhere, loopback included (the test servers are local). */
const ANY_URL = { reason: "tests", allowedUrls: ["*"], allowLocalNetwork: true };

export function workerFunctions(bus: Bus, namespace: string, options: { timeoutMs?: number } = {}): WorkerFunctions {
  const functions = createWebSocketFunctions(createBusGatewayClient(bus, namespace, options));
  const call = async <I extends DescMessage, O extends DescMessage>(
    name: string,
    pluginId: string,
    input: I,
    output: O,
    request: MessageInitShape<I>,
  ): Promise<MessageShape<O>> => {
    const handler = functions[name];
    if (!handler) throw new Error(`no env.${name}`);
    const ctx: MainContext = { pluginId, permissions: { websocket: ANY_URL }, config: {}, signal: new AbortController().signal };
    return fromBinary(output, await handler(ctx, toBinary(input, create(input, request))));
  };
  const ws = websocketHost;
  return {
    connect: (pluginId, request) => call("connect", pluginId, ws.ConnectRequestSchema, ws.ConnectResponseSchema, request),
    sendText: async (pluginId, connectionId, message) =>
      (await call("send_text", pluginId, ws.SendTextRequestSchema, ws.SendTextResponseSchema, { connectionId, message })).error,
    sendBinary: async (pluginId, connectionId, data) =>
      (await call("send_binary", pluginId, ws.SendBinaryRequestSchema, ws.SendBinaryResponseSchema, { connectionId, data })).error,
    close: async (pluginId, connectionId, code = 1000, reason = "") =>
      (await call("close", pluginId, ws.CloseRequestSchema, ws.CloseResponseSchema, { connectionId, code, reason })).error,
  };
}
