// The status page as an operator sees it: Debian's Chromium, driven by playwright-core, renders the
// page of an embedded Tonearm running the fixture plugins, and the page keeps itself current while
// calls, a schedule and a WebSocket connection happen.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTonearm, type RunningTonearm } from "@tonearm/cli";
import { testNamespace } from "@tonearm/test-harness";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { WebSocketServer } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureConfig } from "./support.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let tonearm: RunningTonearm | undefined;
let context: BrowserContext | undefined;
let profile: string | undefined;
let sockets: WebSocketServer | undefined;
let base = "";
let wsUrl = "";

const post = async (path: string, body: unknown) => {
  const response = await fetch(`${base}/v1/call/${path}`, { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The status page's browser test needs Chromium at ${CHROMIUM}. Install Debian's package with ` +
        "`apt-get install -y chromium` (.ci/run does so when it is missing), or point CHROMIUM_PATH at a Chromium binary.",
    );
  }
  // A WebSocket server that accepts and stays silent: the connection only has to exist.
  sockets = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => sockets?.once("listening", resolve));
  const address = sockets.address();
  wsUrl = `ws://127.0.0.1:${typeof address === "object" ? address.port : 0}/allowed`;

  const config = await fixtureConfig("embedded", testNamespace("ui"));
  tonearm = await startTonearm(config, { roles: new Set(["registry", "worker", "scheduler", "gateway"]), port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${tonearm.port}`;
  // Ready once the registry has published and a worker verified the plugin.
  const deadline = Date.now() + 20_000;
  while ((await post("fake_artist_agent/MetadataAgent/GetArtistMBID", { id: "0", name: "warm" })).status !== 200) {
    if (Date.now() > deadline) throw new Error("fake_artist_agent never became callable");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  profile = await mkdtemp(join(tmpdir(), "tonearm-chromium-"));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await tonearm?.stop();
  await new Promise((resolve) => (sockets ? sockets.close(resolve) : resolve(undefined)));
});

/** The text of one cell of the row of `plugin` in a section, whitespace collapsed. */
async function cell(page: Page, section: string, plugin: string, field: string): Promise<string> {
  const text = await page.locator(`#${section} tr[data-plugin="${plugin}"] [data-field="${field}"]`).first().textContent({ timeout: 2_000 });
  return (text ?? "").replace(/\s+/g, " ").trim();
}

describe("the status page in a browser", () => {
  it("shows plugins, their calls and latency, a schedule and a WebSocket connection, and keeps itself current", async () => {
    const page = (await context?.newPage()) as Page;
    await page.goto(`${base}/status?refresh=1`);
    await expect(page.title()).resolves.toMatch(/^Tonearm status · ui/);

    // A READY plugin with its capabilities and the reasons of its permissions.
    expect(await cell(page, "plugins", "multi_plugin", "state")).toBe("READY");
    expect(await cell(page, "plugins", "multi_plugin", "capabilities")).toBe("MetadataAgent SchedulerCallback LifecycleManagement");
    expect(await cell(page, "plugins", "multi_plugin", "permissions")).toBe("scheduler: For testing scheduled callback functionality");
    const probePermissions = await cell(page, "plugins", "host_probe", "permissions");
    for (const reason of ["http: Probe the HTTP service", "websocket: Probe the WebSocket service", "subsonicapi: Probe the Subsonic API service"]) {
      expect(probePermissions).toContain(reason);
    }
    expect(await page.locator('#plugins tr[data-plugin="host_probe"] [data-permission="http"] summary').isVisible()).toBe(true);

    // A FAILED plugin with its error, in plain sight.
    expect(await cell(page, "plugins", "unauthorized_plugin", "state")).toBe("FAILED");
    const error = page.locator('#plugins tr[data-plugin-error="unauthorized_plugin"]');
    expect(await error.isVisible()).toBe(true);
    expect(await error.textContent()).toContain('"get" is not exported in module "env"');

    // Calls made while the page is open appear without reloading it.
    for (let i = 1; i <= 5; i++) {
      expect((await post("fake_artist_agent/MetadataAgent/GetArtistMBID", { id: String(i), name: "The Beatles" })).status).toBe(200);
    }
    expect((await post("unauthorized_plugin/MetadataAgent/GetAlbumInfo", { name: "A", artist: "B" })).status).toBe(503);
    const connected = await post("host_probe/MetadataAgent/GetArtistBiography", { name: "ws.connect", id: wsUrl, mbid: "status-conn" });
    expect(connected).toEqual({ status: 200, body: { biography: "status-conn" } });

    // The warm-up call and these five.
    await expect.poll(() => cell(page, "plugins", "fake_artist_agent", "calls"), { timeout: 15_000, interval: 250 }).toBe("6");
    expect(await cell(page, "plugins", "fake_artist_agent", "calls-per-second")).toMatch(/^\d+\.\d+\/s$/);
    expect(await cell(page, "plugins", "fake_artist_agent", "p50")).toMatch(/^\d+(\.\d+)? m?s$/);
    expect(await cell(page, "plugins", "fake_artist_agent", "p99")).toMatch(/^\d+(\.\d+)? m?s$/);
    expect(await cell(page, "plugins", "fake_artist_agent", "errors-per-second")).toMatch(/^0\/s \(0%\)$/);
    await expect.poll(() => cell(page, "plugins", "unauthorized_plugin", "calls"), { timeout: 5_000 }).toBe("1 (1 failed)");
    expect(await cell(page, "plugins", "unauthorized_plugin", "errors-per-second")).toMatch(/\(100%\)$/);
    const method = page.locator('#methods tr[data-plugin="fake_artist_agent"][data-method="MetadataAgent/GetArtistMBID"]');
    expect(await method.isVisible()).toBe(true);

    // multi_plugin's OnInit scheduled `@every 5s`.
    const schedule = page.locator('#schedules tr[data-plugin="multi_plugin"]').filter({ hasText: "@every 5s" });
    expect(await schedule.locator('[data-field="kind"]').textContent()).toBe("every");
    expect(await schedule.locator('[data-field="next"]').textContent()).toMatch(/^(now|in \d+ s)$/);

    const connection = page.locator('#websockets tr[data-plugin="host_probe"]');
    await expect.poll(() => connection.textContent(), { timeout: 5_000 }).toContain("status-conn");
    expect(await connection.textContent()).toContain("yes");

    expect(await page.locator("#workers tr[data-worker]").count()).toBe(1);
    // Every Scrobbler plugin has a consumer row, nothing waiting.
    for (const scrobbler of ["fake_scrobbler", "recording_scrobbler"]) {
      expect(await cell(page, "scrobbles", scrobbler, "pending")).toBe("0");
      expect(await cell(page, "scrobbles", scrobbler, "dead-lettered")).toBe("0");
    }
    expect(await page.locator('#scrobbles tr[data-plugin="multi_plugin"]').count()).toBe(0);
    await page.screenshot({ path: join(tmpdir(), "tonearm-status-page.png"), fullPage: true });
  }, 60_000);
});
