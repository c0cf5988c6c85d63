/**
 * The live status page of a namespace, served by the registry role on the operations port:
 *
 *   GET /status          HTML for people; `?refresh=N` refreshes every N seconds (default 5, 0: off)
 *   GET /status.json     the same data as JSON (`StatusSnapshot`, status-model.ts)
 *   GET /                redirects to /status
 *
 * The data is cluster-wide: plugin records from the catalog, call figures from the workers'
 * statistics reports, schedules from any scheduler, WebSocket connections from the gateways'
 * ownership entries, the registry lease, and the scrobble consumers' lag when a source is given.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { storageNames, watchPluginCatalog, type Bus, type BusLogger, type KeyValue, type PluginCatalog, type PluginRecord, type Subscription } from "@tonearm/bus";
import { describePermissions, parseManifest, type PluginManifest } from "@tonearm/manifest";
import type { ExtraRoutes } from "@tonearm/telemetry";
import { stateName } from "./records.js";
import { REGISTRY_LEASE_KEY } from "./registry.js";
import { CallStatistics, NO_CALLS, followWorkerStats } from "./status-calls.js";
import { renderStatusPage } from "./status-html.js";
import { STATUS_VERSION, type PluginStatus, type StatusSnapshot } from "./status-model.js";
import { readConnections, readLease, readSchedules, readScrobbles, type ScrobbleStatusSource } from "./status-sources.js";

export const DEFAULT_REFRESH_SECONDS = 5;
const MAX_REFRESH_SECONDS = 3_600;

export interface StatusPageOptions {
  readonly bus: Bus;
  /** Must be the bus's namespace. */
  readonly namespace: string;
  /** The registry of this process, to say whether it is the active one. */
  readonly registry?: { readonly active: boolean };
  /** Lag of the scrobble consumers; without it that section says it is not available. */
  readonly scrobbles?: ScrobbleStatusSource;
  /** The span of rates and percentiles. @default 60000 */
  readonly windowMs?: number;
  /** How long to wait for a scheduler to list the schedules. @default 1000 */
  readonly schedulesTimeoutMs?: number;
  readonly logger?: BusLogger;
}

export interface StatusPage {
  /** Reads everything the page shows, now. */
  snapshot(): Promise<StatusSnapshot>;
  /** Routes for the operations server: /status, /status.json and /. */
  readonly routes: ExtraRoutes;
  /** Stops following the catalog and the workers' reports. Idempotent. */
  close(): void;
}

/** Starts following the catalog and the workers' reports; resolves once the catalog has been read. */
export async function startStatusPage(options: StatusPageOptions): Promise<StatusPage> {
  const { bus, namespace } = options;
  if (namespace !== bus.namespace) throw new Error(`the status page's namespace "${namespace}" differs from its bus's "${bus.namespace}"`);
  const logger = options.logger ?? { info: () => undefined, warn: () => undefined, error: () => undefined };
  const statistics = new CallStatistics(options.windowMs === undefined ? {} : { windowMs: options.windowMs });
  const reports: Subscription = followWorkerStats(bus, namespace, statistics, logger);
  const catalog: PluginCatalog = watchPluginCatalog(bus, namespace, { logger });
  let leases: KeyValue;
  try {
    [leases] = await Promise.all([bus.kv(storageNames(namespace).leasesBucket), catalog.ready]);
  } catch (err) {
    reports.unsubscribe();
    catalog.close();
    throw err;
  }
  const manifests = new WeakMap<PluginRecord, PluginManifest | null>();
  const manifestOf = (record: PluginRecord): PluginManifest | null => {
    let manifest = manifests.get(record);
    if (manifest === undefined) {
      try {
        manifest = parseManifest(record.manifestJson);
      } catch {
        manifest = null;
      }
      manifests.set(record, manifest);
    }
    return manifest;
  };

  const snapshot = async (): Promise<StatusSnapshot> => {
    const [schedules, websockets, scrobbles, registry] = await Promise.all([
      readSchedules(bus, namespace, options.schedulesTimeoutMs ?? 1_000),
      readConnections(bus, namespace),
      readScrobbles(options.scrobbles, catalog.all()),
      readLease(leases, REGISTRY_LEASE_KEY, options.registry?.active ?? false),
    ]);
    const calls = statistics.plugins();
    const plugins = catalog
      .all()
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((record): PluginStatus => {
        const manifest = manifestOf(record);
        const figures = calls.get(record.id);
        return {
          id: record.id,
          state: stateName(record.state) ?? "UNSPECIFIED",
          error: record.error,
          sha256: record.sha256,
          recordVersion: Number(record.version),
          updatedAtMs: Number(record.updatedAtMs),
          manifest: manifest && {
            name: manifest.name,
            version: manifest.version,
            author: manifest.author,
            description: manifest.description,
            website: manifest.website,
          },
          capabilities: manifest ? [...new Set(manifest.capabilities)] : [],
          permissions: manifest ? describePermissions(manifest).map((p) => ({ key: p.key, reason: p.reason, details: p.lines.slice(1) })) : [],
          calls: figures?.calls ?? NO_CALLS,
          methods: figures?.methods ?? [],
        };
      });
    return {
      v: STATUS_VERSION,
      namespace,
      generatedAtMs: Date.now(),
      windowSeconds: Math.round(statistics.windowMs / 1000),
      registry,
      plugins,
      workers: statistics.workers(),
      schedules,
      websockets,
      scrobbles,
    };
  };

  let closed = false;
  return {
    snapshot,
    routes: (request, response) => route(request, response, snapshot),
    close() {
      if (closed) return;
      closed = true;
      reports.unsubscribe();
      catalog.close();
    },
  };
}

async function route(request: IncomingMessage, response: ServerResponse, snapshot: () => Promise<StatusSnapshot>): Promise<boolean> {
  const url = new URL(request.url ?? "/", "http://status.invalid");
  const path = url.pathname;
  if (path !== "/" && path !== "/status" && path !== "/status.json") return false;
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
    return true;
  }
  if (path === "/") {
    response.writeHead(302, { location: "/status" }).end();
    return true;
  }
  const refreshText = url.searchParams.get("refresh");
  const refreshSeconds = refreshText === null ? DEFAULT_REFRESH_SECONDS : Number(refreshText);
  if (!Number.isInteger(refreshSeconds) || refreshSeconds < 0 || refreshSeconds > MAX_REFRESH_SECONDS) {
    response
      .writeHead(400, { "content-type": "text/plain; charset=utf-8" })
      .end(`refresh must be a whole number of seconds from 0 (off) to ${MAX_REFRESH_SECONDS}, got ${JSON.stringify(refreshText)}\n`);
    return true;
  }
  const status = await snapshot();
  const [type, body] =
    path === "/status.json"
      ? ["application/json; charset=utf-8", `${JSON.stringify(status, null, 2)}\n`]
      : ["text/html; charset=utf-8", renderStatusPage(status, { refreshSeconds })];
  response.writeHead(200, { "content-type": type, "cache-control": "no-store" });
  response.end(request.method === "HEAD" ? undefined : body);
  return true;
}
