// The websocket host functions over the in-process gateway, against a real `ws` server on loopback.
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { WebSocketPermission } from "@tonearm/manifest";
import { websocketHost } from "@tonearm/proto";
import { WebSocketServer, type WebSocket } from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MainContext } from "../src/host.js";
import { staticLookup } from "../src/main/network-guard.js";
import {
  createLocalWebSocketGateway,
  createWebSocketFunctions,
  type LocalWebSocketGateway,
  type WebSocketEvent,
} from "../src/main/websocket/index.js";

interface ServerSide {
  path: string;
  headers: IncomingMessage["headers"];
  received: { data: string; binary: boolean }[];
  closed: Promise<{ code: number; reason: string }>;
}

let server: WebSocketServer;
let port = 0;
const connections: ServerSide[] = [];
const connected: ((side: ServerSide) => void)[] = [];

/** Paths: /echo sends every message back; a text `close` makes the server close (4001, "bye"); `drop` cuts the TCP connection. */
function serve(socket: WebSocket, req: IncomingMessage): void {
  let onClosed: (c: { code: number; reason: string }) => void = () => {};
  const side: ServerSide = {
    path: req.url ?? "",
    headers: req.headers,
    received: [],
    closed: new Promise((res) => (onClosed = res)),
  };
  socket.on("close", (code, reason) => onClosed({ code, reason: reason.toString() }));
  socket.on("message", (data, binary) => {
    const text = Buffer.isBuffer(data) ? data.toString() : "";
    side.received.push({ data: text, binary });
    if (!binary && text === "close") socket.close(4001, "bye");
    else if (!binary && text === "drop") socket.terminate();
    else socket.send(data, { binary });
  });
  connections.push(side);
  connected.shift()?.(side);
}
const nextConnection = (): Promise<ServerSide> => new Promise((res) => connected.push(res));

beforeAll(async () => {
  server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    verifyClient: (info: { req: IncomingMessage }) => info.req.url !== "/reject",
  });
  server.on("connection", serve);
  await new Promise<void>((res) => server.once("listening", res));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  for (const client of server.clients) client.terminate();
  return new Promise<void>((res) => server.close(() => res()));
});

/** Events the gateway reports, awaited by predicate rather than by time. */
function eventLog() {
  const events: WebSocketEvent[] = [];
  const waiting: { match: (e: WebSocketEvent) => boolean; resolve: (e: WebSocketEvent) => void }[] = [];
  return {
    events,
    onEvent(event: WebSocketEvent) {
      events.push(event);
      const i = waiting.findIndex((w) => w.match(event));
      if (i >= 0) waiting.splice(i, 1)[0]?.resolve(event);
    },
    next(match: (e: WebSocketEvent) => boolean): Promise<WebSocketEvent> {
      const seen = events.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ match, resolve }));
    },
  };
}

const log = eventLog();
const lookup = staticLookup({ "public.test": ["127.0.0.1"] });
const gateway: LocalWebSocketGateway = createLocalWebSocketGateway({ onEvent: (e) => log.onEvent(e), lookup });
const functions = createWebSocketFunctions(gateway);
afterEach(() => gateway.closeAll());

const localAny: WebSocketPermission = { reason: "test", allowedUrls: ["*"], allowLocalNetwork: true };

async function call<I extends DescMessage, O extends DescMessage>(
  name: string,
  schemas: { input: I; output: O },
  request: MessageInitShape<I>,
  options: { permission?: WebSocketPermission; pluginId?: string } = {},
): Promise<MessageShape<O>> {
  const handler = functions[name];
  if (!handler) throw new Error(`no env.${name}`);
  const ctx: MainContext = {
    pluginId: options.pluginId ?? "plugin-a",
    permissions: { websocket: options.permission ?? localAny },
    config: {},
    signal: new AbortController().signal,
  };
  return fromBinary(schemas.output, await handler(ctx, toBinary(schemas.input, create(schemas.input, request))));
}

const connect = (request: MessageInitShape<typeof websocketHost.ConnectRequestSchema>, options?: { permission?: WebSocketPermission; pluginId?: string }) =>
  call("connect", { input: websocketHost.ConnectRequestSchema, output: websocketHost.ConnectResponseSchema }, request, options);
const sendText = (connectionId: string, message: string, pluginId?: string) =>
  call("send_text", { input: websocketHost.SendTextRequestSchema, output: websocketHost.SendTextResponseSchema }, { connectionId, message }, { pluginId });
const sendBinary = (connectionId: string, data: Uint8Array) =>
  call("send_binary", { input: websocketHost.SendBinaryRequestSchema, output: websocketHost.SendBinaryResponseSchema }, { connectionId, data });
const close = (connectionId: string, code: number, reason: string) =>
  call("close", { input: websocketHost.CloseRequestSchema, output: websocketHost.CloseResponseSchema }, { connectionId, code, reason });

const echoUrl = (): string => `ws://127.0.0.1:${port}/echo`;

describe("connect", () => {
  it("offers exactly the ABI's import names", () => {
    expect(Object.keys(functions).sort()).toEqual(["close", "connect", "send_binary", "send_text"]);
  });

  it("opens a connection with the plugin's id and headers", async () => {
    const side = nextConnection();
    const response = await connect({ url: echoUrl(), connectionId: "my-conn", headers: { "X-Test-Header": "test-value" } });
    expect(response).toMatchObject({ connectionId: "my-conn", error: "" });
    expect((await side).headers["x-test-header"]).toBe("test-value");
  });

  it("generates a 10-character id when the plugin gives none", async () => {
    const response = await connect({ url: echoUrl() });
    expect(response.error).toBe("");
    expect(response.connectionId).toMatch(/^[A-Za-z0-9_-]{10}$/);
  });

  it("replaces an open connection that had the same id", async () => {
    const first = nextConnection();
    await connect({ url: echoUrl(), connectionId: "same" });
    const firstSide = await first;
    const second = nextConnection();
    await connect({ url: echoUrl(), connectionId: "same" });
    expect((await firstSide.closed).code).toBe(1006);
    await sendText("same", "to the new one");
    await log.next((e) => e.connectionId === "same" && e.kind === "text");
    expect((await second).received).toEqual([{ data: "to the new one", binary: false }]);
  });

  it("refuses URLs outside the permission with Navidrome's texts, without dialling", async () => {
    const before = connections.length;
    const narrow: WebSocketPermission = { reason: "r", allowedUrls: ["wss://api.example.com/*"], allowLocalNetwork: true };
    expect((await connect({ url: echoUrl() }, { permission: narrow })).error).toBe(
      `Connection blocked by plugin permissions: URL ${echoUrl()} does not match any allowed URL patterns`,
    );
    expect((await connect({ url: echoUrl() }, { permission: { ...localAny, allowLocalNetwork: false } })).error).toBe(
      "Connection blocked by plugin permissions: requests to localhost are not allowed",
    );
    expect(connections.length).toBe(before);
  });

  it("refuses a public-looking name that resolves to loopback, and allows it with allowLocalNetwork", async () => {
    const before = connections.length;
    const url = `ws://public.test:${port}/echo`;
    const blocked = await connect({ url }, { permission: { ...localAny, allowLocalNetwork: false } });
    expect(blocked).toMatchObject({
      connectionId: "",
      error: "Connection blocked by plugin permissions: requests to localhost are not allowed (public.test resolves to 127.0.0.1)",
    });
    expect(connections.length).toBe(before);
    expect((await connect({ url })).error).toBe("");
  });

  it("answers dial failures in `error` instead of trapping", async () => {
    const refused = await connect({ url: "ws://127.0.0.1:1/" });
    expect(refused.error).toBe("failed to connect to WebSocket server: connect ECONNREFUSED 127.0.0.1:1");
    const rejected = await connect({ url: `ws://127.0.0.1:${port}/reject` });
    expect(rejected.error).toBe("failed to connect to WebSocket server: Unexpected server response: 401");
    const header = await connect({ url: echoUrl(), headers: { upgrade: "h2c" } });
    expect(header.error).toBe("failed to connect to WebSocket server: websocket: duplicate header not allowed: Upgrade");
    const scheme = await connect({ url: "https://example.com/" }, { permission: { ...localAny, allowedUrls: ["*"] } });
    expect(scheme.error).toBe("failed to connect to WebSocket server: malformed ws or wss URL");
  });
});

describe("messages and closing", () => {
  it("sends text and binary, and reports what comes back in order", async () => {
    const side = nextConnection();
    await connect({ url: echoUrl(), connectionId: "c1" });
    expect(await sendText("c1", "hello websocket")).toMatchObject({ error: "" });
    expect(await sendBinary("c1", new Uint8Array([0, 1, 2, 255]))).toMatchObject({ error: "" });
    const binary = await log.next((e) => e.connectionId === "c1" && e.kind === "binary");
    expect((await side).received).toEqual([
      { data: "hello websocket", binary: false },
      { data: Buffer.from([0, 1, 2, 255]).toString(), binary: true },
    ]);
    const forC1 = log.events.filter((e) => e.connectionId === "c1");
    expect(forC1).toEqual([
      { pluginId: "plugin-a", connectionId: "c1", kind: "text", message: "hello websocket" },
      { pluginId: "plugin-a", connectionId: "c1", kind: "binary", data: new Uint8Array([0, 1, 2, 255]) },
    ]);
    expect(binary.kind).toBe("binary");
  });

  it("reports a close frame from the server as `close`, and forgets the connection", async () => {
    await connect({ url: echoUrl(), connectionId: "c2" });
    await sendText("c2", "close");
    expect(await log.next((e) => e.connectionId === "c2" && e.kind !== "text")).toEqual({
      pluginId: "plugin-a",
      connectionId: "c2",
      kind: "close",
      code: 4001,
      reason: "bye",
    });
    expect((await sendText("c2", "late")).error).toBe("connection not found");
  });

  it("reports a connection cut without close frame as gorilla's error", async () => {
    await connect({ url: echoUrl(), connectionId: "c3" });
    await sendText("c3", "drop");
    expect(await log.next((e) => e.connectionId === "c3" && e.kind !== "text")).toEqual({
      pluginId: "plugin-a",
      connectionId: "c3",
      kind: "error",
      error: "websocket: close 1006 (abnormal closure): unexpected EOF",
    });
  });

  it("closes with the plugin's code and reason, then reports nothing more for it", async () => {
    const side = nextConnection();
    await connect({ url: echoUrl(), connectionId: "c4" });
    expect(await close("c4", 4000, "done")).toMatchObject({ error: "" });
    expect(await (await side).closed).toEqual({ code: 4000, reason: "done" });
    expect((await close("c4", 1000, "")).error).toBe("connection not found");
    // Give the client side time to see the end of the closing handshake: nothing may surface from it.
    await new Promise((res) => setTimeout(res, 50));
    expect(log.events.filter((e) => e.connectionId === "c4")).toEqual([]);
  });

  it("closes normally when the plugin leaves the code unset", async () => {
    const side = nextConnection();
    await connect({ url: echoUrl(), connectionId: "c5" });
    await close("c5", 0, "");
    expect((await (await side).closed).code).toBe(1000);
  });

  it("answers `connection not found` for unknown ids and for another plugin's connection", async () => {
    expect((await sendText("nope", "x")).error).toBe("connection not found");
    expect((await sendBinary("nope", new Uint8Array([1]))).error).toBe("connection not found");
    expect((await close("nope", 1000, "")).error).toBe("connection not found");
    await connect({ url: echoUrl(), connectionId: "mine" });
    expect((await sendText("mine", "x", "plugin-b")).error).toBe("connection not found");
    expect((await sendText("mine", "x")).error).toBe("");
  });
});
