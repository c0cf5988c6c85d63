// A loopback WebSocket server for the gateway's tests. Every message comes back as it was sent,
// except commands: text `close` makes the server close (4001, "bye"), `drop` cuts the TCP
// connection, `big:<n>` answers with n bytes of binary.
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface ServerSide {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly received: { data: string; binary: boolean }[];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly socket: WebSocket;
  /** Pings received from the client. */
  pings: number;
}

export interface EchoServer {
  readonly url: string;
  readonly connections: ServerSide[];
  /** The next connection the server accepts. */
  nextConnection(): Promise<ServerSide>;
  close(): Promise<void>;
}

export async function startEchoServer(options: { autoPong?: boolean } = {}): Promise<EchoServer> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, autoPong: options.autoPong ?? true });
  const connections: ServerSide[] = [];
  const waiting: ((side: ServerSide) => void)[] = [];
  server.on("connection", (socket: WebSocket, req: IncomingMessage) => {
    let onClosed: (closed: { code: number; reason: string }) => void = () => {};
    const side: ServerSide = {
      path: req.url ?? "",
      headers: req.headers,
      received: [],
      closed: new Promise((resolve) => (onClosed = resolve)),
      socket,
      pings: 0,
    };
    socket.on("ping", () => side.pings++);
    socket.on("close", (code, reason) => onClosed({ code, reason: reason.toString() }));
    socket.on("error", () => undefined);
    socket.on("message", (data, binary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      const text = bytes.toString();
      side.received.push({ data: text, binary });
      if (!binary && text === "close") socket.close(4001, "bye");
      else if (!binary && text === "drop") socket.terminate();
      else if (!binary && text.startsWith("big:")) socket.send(Buffer.alloc(Number(text.slice(4)), 7), { binary: true });
      else socket.send(bytes, { binary });
    });
    connections.push(side);
    waiting.shift()?.(side);
  });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/echo`,
    connections,
    nextConnection: () => new Promise((resolve) => waiting.push(resolve)),
    close() {
      for (const client of server.clients) client.terminate();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
