/**
 * Plugin calls over HTTP on the operations port, so a process with in-memory drivers can be called
 * from outside: `POST /v1/call/<plugin>/<Capability>/<Method>` with the request as protobuf JSON
 * answers the response as protobuf JSON, or `{"code","message"}` with a status that fits the code.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { JsonValue } from "@bufbuild/protobuf";
import { CallError, CallErrorCode } from "@tonearm/abi";
import { callPlugin, type Bus } from "@tonearm/bus";
import type { ExtraRoutes } from "@tonearm/telemetry";

const STATUS: Readonly<Record<string, number>> = {
  [CallErrorCode.BadRequest]: 400,
  [CallErrorCode.Forbidden]: 403,
  [CallErrorCode.NotFound]: 404,
  [CallErrorCode.NotImplemented]: 501,
  [CallErrorCode.PluginError]: 502,
  [CallErrorCode.Unavailable]: 503,
  [CallErrorCode.Timeout]: 504,
  [CallErrorCode.LoadError]: 503,
};

const ROUTE = /^\/v1\/call\/([^/]+)\/([A-Za-z]+)\/([A-Za-z]+)$/;
const MAX_BODY_BYTES = 1024 * 1024;

export function httpCallRoutes(bus: Bus, namespace: string): ExtraRoutes {
  return async (request, response) => {
    const match = ROUTE.exec((request.url ?? "").split("?")[0] ?? "");
    if (!match) return false;
    if (request.method !== "POST") {
      send(response, 405, { code: CallErrorCode.BadRequest, message: "use POST with the request as protobuf JSON" });
      return true;
    }
    try {
      const json = await readJson(request);
      const answer = await callPlugin(bus, namespace, {
        plugin: decodeURIComponent(match[1]!),
        capability: match[2]!,
        method: match[3]!,
        json,
        caller: "http",
        ...timeoutFrom(request),
      });
      send(response, 200, answer);
    } catch (err) {
      const error = err instanceof CallError ? err : new CallError(CallErrorCode.PluginError, (err as Error).message);
      send(response, STATUS[error.code] ?? 500, { code: error.code, message: error.message });
    }
    return true;
  };
}

function timeoutFrom(request: IncomingMessage): { timeoutMs?: number } {
  const value = Number(request.headers["tonearm-timeout-ms"]);
  return Number.isFinite(value) && value > 0 ? { timeoutMs: value } : {};
}

export async function readJson(request: IncomingMessage): Promise<JsonValue> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new CallError(CallErrorCode.BadRequest, `request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new CallError(CallErrorCode.BadRequest, `request is not valid JSON: ${(err as Error).message}`);
  }
}

export function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`);
}
