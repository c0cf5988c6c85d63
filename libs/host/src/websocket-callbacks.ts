/**
 * What a WebSocket event becomes for its plugin: a call of the WebSocketCallback capability
 * (ABI.md §9). One mapping for every gateway, in-process or remote.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { api } from "@tonearm/proto";
import type { WebSocketEvent } from "./main/websocket/index.js";

export interface CallbackCall {
  readonly pluginId: string;
  readonly capability: "WebSocketCallback";
  readonly method: "OnTextMessage" | "OnBinaryMessage" | "OnError" | "OnClose";
  readonly request: Uint8Array;
}

export function websocketCallbackCall(event: WebSocketEvent): CallbackCall {
  const base = { pluginId: event.pluginId, capability: "WebSocketCallback" as const };
  const connectionId = event.connectionId;
  switch (event.kind) {
    case "text":
      return { ...base, method: "OnTextMessage", request: toBinary(api.OnTextMessageRequestSchema, create(api.OnTextMessageRequestSchema, { connectionId, message: event.message })) };
    case "binary":
      return { ...base, method: "OnBinaryMessage", request: toBinary(api.OnBinaryMessageRequestSchema, create(api.OnBinaryMessageRequestSchema, { connectionId, data: event.data })) };
    case "error":
      return { ...base, method: "OnError", request: toBinary(api.OnErrorRequestSchema, create(api.OnErrorRequestSchema, { connectionId, error: event.error })) };
    case "close":
      return {
        ...base,
        method: "OnClose",
        request: toBinary(api.OnCloseRequestSchema, create(api.OnCloseRequestSchema, { connectionId, code: event.code, reason: event.reason })),
      };
  }
}
