/**
 * The operations endpoint of a process: GET /metrics answers the registry's exposition text,
 * /healthz says the process is alive, /readyz whether it serves (503 with the reason while it does
 * not); any other path is 404, any other method 405. Port 0 picks a free port (read it back from
 * `port`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { scrubSecrets } from "@tonearm/config/secrets";
import type { Metrics } from "./metrics.js";

export interface MetricsServer {
  /** The port listened on; the chosen one when 0 was asked for. */
  readonly port: number;
  /** Stops listening and drops open connections. Safe to call more than once. */
  close(): Promise<void>;
}

/** Readiness of the process: undefined when ready, else why not. */
export type ReadinessProbe = () => string | undefined;

/** Answers requests outside the operations paths; resolves false when it does not handle the path. */
export type ExtraRoutes = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

export interface OperationsOptions {
  readonly readiness?: ReadinessProbe;
  readonly routes?: ExtraRoutes;
  /** @default all interfaces */
  readonly host?: string;
}

export async function startMetricsServer(metrics: Metrics, port: number, options: OperationsOptions = {}): Promise<MetricsServer> {
  const readiness = options.readiness ?? (() => undefined);
  const server = createServer((request, response) => {
    answer(metrics, readiness, options.routes, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      response.end(`collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(port, options.host, () => {
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

const TEXT = { "content-type": "text/plain; charset=utf-8" };

async function answer(
  metrics: Metrics,
  readiness: ReadinessProbe,
  routes: ExtraRoutes | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = (request.url ?? "/").split("?")[0];
  if (path !== "/metrics" && path !== "/healthz" && path !== "/readyz") {
    if (routes && (await routes(request, response))) return;
    response.writeHead(404, TEXT).end("not found; try /metrics, /healthz or /readyz\n");
    return;
  }
  if (request.method !== "GET") {
    response.writeHead(405, { allow: "GET", ...TEXT }).end("method not allowed\n");
    return;
  }
  if (path === "/healthz") {
    response.writeHead(200, TEXT).end("ok\n");
    return;
  }
  if (path === "/readyz") {
    const notReady = readiness();
    response.writeHead(notReady === undefined ? 200 : 503, TEXT).end(`${notReady ?? "ready"}\n`);
    return;
  }
  // Label values come from plugin ids and outcomes, never from settings; scrubbed all the same.
  const body = scrubSecrets(await metrics.registry.metrics());
  response.writeHead(200, { "content-type": metrics.registry.contentType }).end(body);
}
