/**
 * Scrobbles over HTTP on the operations port, for music servers and operators without a NATS
 * client (and for embedded mode, whose bus lives in the process):
 *
 *   POST /v1/scrobbles                    publish one ScrobbleEvent (protobuf JSON) → {stream, seq, duplicate}
 *   GET  /v1/scrobbles/status             per Scrobbler plugin: pending, redelivered, dead-lettered, parked
 *   POST /v1/scrobbles/replay/<plugin>    re-drive the plugin's dead letters → the replay report
 */
import { fromJson } from "@bufbuild/protobuf";
import { BusError, publishScrobble, scrobbleStatus, watchPluginCatalog, type Bus, type PluginCatalog } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import type { ExtraRoutes } from "@tonearm/telemetry";
import { replayDeadScrobbles } from "@tonearm/worker";
import { readJson, send } from "./http-calls.js";

const REPLAY = /^\/v1\/scrobbles\/replay\/([^/]+)$/;

export interface ScrobbleRoutes {
  readonly routes: ExtraRoutes;
  close(): void;
}

export function httpScrobbleRoutes(bus: Bus): ScrobbleRoutes {
  let catalog: PluginCatalog | undefined;
  const records = async () => {
    catalog ??= watchPluginCatalog(bus, bus.namespace);
    await catalog.ready;
    return catalog.all();
  };
  const routes: ExtraRoutes = async (request, response) => {
    const path = (request.url ?? "").split("?")[0] ?? "";
    if (!path.startsWith("/v1/scrobbles")) return false;
    try {
      const replay = REPLAY.exec(path);
      if (path === "/v1/scrobbles" && request.method === "POST") {
        let event: busProto.ScrobbleEvent;
        try {
          event = fromJson(busProto.ScrobbleEventSchema, await readJson(request));
        } catch (err) {
          throw new BusError("invalid_argument", `not a ScrobbleEvent in protobuf JSON: ${err instanceof Error ? err.message : String(err)}`);
        }
        send(response, 202, await publishScrobble(bus, event));
      } else if (path === "/v1/scrobbles/status" && request.method === "GET") {
        send(response, 200, { plugins: await scrobbleStatus(bus, await records()) });
      } else if (replay && request.method === "POST") {
        send(response, 200, await replayDeadScrobbles(bus, decodeURIComponent(replay[1]!)));
      } else {
        send(response, 404, { code: "not_found", message: `no route ${request.method ?? ""} ${path}` });
      }
    } catch (err) {
      const invalid = BusError.is(err, "invalid_argument");
      send(response, invalid ? 400 : 500, { code: invalid ? "bad_request" : "unavailable", message: err instanceof Error ? err.message : String(err) });
    }
    return true;
  };
  return { routes, close: () => catalog?.close() };
}
