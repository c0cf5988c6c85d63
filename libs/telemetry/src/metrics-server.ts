/**
 * The Prometheus scrape endpoint: GET /metrics answers the registry's exposition text; any other
 * path is 404, any other method on /metrics 405. Port 0 picks a free port (read it back from
 * `port`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.js";

export interface MetricsServer {
  /** The port listened on; the chosen one when 0 was asked for. */
  readonly port: number;
  /** Stops listening and drops open connections. Safe to call more than once. */
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: Metrics, port: number): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    answer(metrics, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      response.end(`collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(port, () => {
      server.off("error", onError);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Scrapers keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function answer(metrics: Metrics, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? "/").split("?")[0];
  if (path !== "/metrics") {
    response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found; metrics are at /metrics\n");
    return;
  }
  if (request.method !== "GET") {
    response.writeHead(405, { allow: "GET", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
    return;
  }
  const body = await metrics.registry.metrics();
  response.writeHead(200, { "content-type": metrics.registry.contentType }).end(body);
}
