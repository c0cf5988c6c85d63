/**
 * `websocket` permission: `connect`, `send_text`, `send_binary`, `close` (ABI.md §9). The URL is
 * checked against the permission here; the sockets themselves live behind the gateway.
 */
import { websocketHost } from "@tonearm/proto";
import { asyncHandler } from "../../define.js";
import type { MainContext, MainFunctions } from "../../host.js";
import { checkWebSocketConnection } from "../url-permissions.js";
import { CONNECTION_BLOCKED_PREFIX, type WebSocketGatewayClient } from "./gateway-client.js";

export function createWebSocketFunctions(gateway: WebSocketGatewayClient): MainFunctions {
  return {
    connect: asyncHandler<MainContext, typeof websocketHost.ConnectRequestSchema, typeof websocketHost.ConnectResponseSchema>(
      "connect",
      { input: websocketHost.ConnectRequestSchema, output: websocketHost.ConnectResponseSchema },
      async (ctx, request) => {
        const permission = ctx.permissions.websocket;
        const decision = checkWebSocketConnection(permission, request.url);
        if (!decision.allowed) return { error: CONNECTION_BLOCKED_PREFIX + decision.reason };
        return answer(async () => {
          const { connectionId } = await gateway.connect({
            pluginId: ctx.pluginId,
            url: request.url,
            headers: request.headers,
            connectionId: request.connectionId,
            allowLocalNetwork: permission?.allowLocalNetwork ?? false,
          });
          return { connectionId };
        });
      },
    ),
    send_text: asyncHandler<MainContext, typeof websocketHost.SendTextRequestSchema, typeof websocketHost.SendTextResponseSchema>(
      "send_text",
      { input: websocketHost.SendTextRequestSchema, output: websocketHost.SendTextResponseSchema },
      (ctx, request) => answer(async () => gateway.sendText(ctx.pluginId, request.connectionId, request.message)),
    ),
    send_binary: asyncHandler<MainContext, typeof websocketHost.SendBinaryRequestSchema, typeof websocketHost.SendBinaryResponseSchema>(
      "send_binary",
      { input: websocketHost.SendBinaryRequestSchema, output: websocketHost.SendBinaryResponseSchema },
      (ctx, request) => answer(async () => gateway.sendBinary(ctx.pluginId, request.connectionId, request.data)),
    ),
    close: asyncHandler<MainContext, typeof websocketHost.CloseRequestSchema, typeof websocketHost.CloseResponseSchema>(
      "close",
      { input: websocketHost.CloseRequestSchema, output: websocketHost.CloseResponseSchema },
      (ctx, request) => answer(async () => gateway.close(ctx.pluginId, request.connectionId, request.code, request.reason)),
    ),
  };
}

/** The gateway's result, or its rejection's message as the response's `error` (the gateway words it for the plugin). */
async function answer<T extends object>(call: () => Promise<T | void>): Promise<T | { error: string }> {
  try {
    return (await call()) ?? ({} as T);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
