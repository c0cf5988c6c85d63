// The test kit as a plugin author uses it, on the fixture plugins: host_probe calls any host service
// on request (GetArtistBiography with name = operation, id and mbid = its arguments).
import { fixturePaths } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CannedHttp, CallError, NO_CANNED_ANSWER, serveCannedHttp, startPlugin, type PluginUnderTest } from "../src/index.js";

const fixture = (name: string) => fixturePaths.plugin("plugins", name);
const ALLOWED = "http://127.0.0.1:8080/allowed";

let probe: PluginUnderTest;
let http: CannedHttp;

async function run(operation: string, a = "", b = ""): Promise<string> {
  const response = (await probe.call("MetadataAgent/GetArtistBiography", { name: operation, id: a, mbid: b })) as { biography?: string };
  return response.biography ?? "";
}

beforeAll(async () => {
  http = new CannedHttp()
    .on(`GET ${ALLOWED}/hello`, { body: "hello" })
    .on(`GET ${ALLOWED}/json/*`, (req) => ({ json: { path: req.url.pathname, q: req.url.searchParams.get("q") } }))
    .on(`POST ${ALLOWED}/echo`, (req) => ({ status: 201, body: `got ${req.text}` }))
    .on(`${ALLOWED}/moved`, { status: 302, headers: { location: "/allowed/hello" } })
    .on(`${ALLOWED}/away`, { status: 301, headers: { location: "https://elsewhere.example.com/x" } })
    .on(`${ALLOWED}/down`, { error: "connection refused" });
  probe = await startPlugin(fixture("host_probe"), { http, config: { clientid: "abc" } });
});

afterAll(() => probe?.close());

describe("canned HTTP", () => {
  it("answers the plugin's requests from the routes and records them", async () => {
    http.clearRequests();
    expect(await run("http.get", `${ALLOWED}/hello`)).toBe("200 text/plain; charset=utf-8 hello");
    expect(await run("http.get", `${ALLOWED}/json/a?q=b%20c`)).toBe('200 application/json {"path":"/allowed/json/a","q":"b c"}');
    expect(await run("http.post", `${ALLOWED}/echo`, "some body")).toBe("201 text/plain; charset=utf-8 got some body");
    expect(http.requests.map(String)).toEqual([`GET ${ALLOWED}/hello`, `GET ${ALLOWED}/json/a?q=b%20c`, `POST ${ALLOWED}/echo`]);
    expect(http.requests[0]?.headers["User-Agent"]).toBe("Go-http-client/1.1");
    expect(http.requests[2]?.text).toBe("some body");
  });

  it("asks the routes in order, a handler passing on what it does not answer", async () => {
    const ordered = new CannedHttp()
      .on(`GET ${ALLOWED}/hello`, { body: "hello again" })
      .on(`GET ${ALLOWED}/*`, (req) => (req.url.searchParams.has("skip") ? undefined : { body: "catch-all" }))
      .on(`${ALLOWED}/*`, { status: 404 });
    await using routed = await startPlugin(fixture("host_probe"), { http: ordered });
    const get = async (url: string) =>
      ((await routed.call("MetadataAgent/GetArtistBiography", { name: "http.get", id: url })) as { biography: string }).biography;
    expect(await get(`${ALLOWED}/hello`)).toBe("200 text/plain; charset=utf-8 hello again");
    expect(await get(`${ALLOWED}/other`)).toBe("200 text/plain; charset=utf-8 catch-all");
    expect(await get(`${ALLOWED}/other?skip`)).toBe("404  ");
  });

  it("fails requests no route answers like a network failure, and lists them", async () => {
    http.clearRequests();
    expect(await run("http.get", `${ALLOWED}/nothing-here`)).toBe(
      `error: Get "${ALLOWED}/nothing-here": ${NO_CANNED_ANSWER} for GET ${ALLOWED}/nothing-here`,
    );
    expect(http.unanswered.map(String)).toEqual([`GET ${ALLOWED}/nothing-here`]);
    expect(await run("http.get", `${ALLOWED}/down`)).toBe(`error: Get "${ALLOWED}/down": connection refused`);
  });

  it("keeps the manifest's permissions: a URL it does not allow never reaches the routes", async () => {
    http.clearRequests();
    expect(await run("http.delete", `${ALLOWED}/hello`)).toMatch(/^error: Request blocked by plugin permissions: operation DELETE not allowed/);
    expect(await run("http.get", "https://example.com/allowed/x")).toMatch(/^error: Request blocked by plugin permissions: /);
    expect(http.requests).toEqual([]);
  });

  it("follows redirects between canned answers, checking each target against the manifest", async () => {
    http.clearRequests();
    expect(await run("http.get", `${ALLOWED}/moved`)).toBe("200 text/plain; charset=utf-8 hello");
    expect(http.requests.map((r) => r.url.pathname)).toEqual(["/allowed/moved", "/allowed/hello"]);
    // A target the manifest does not allow stops the chain: the plugin gets the 3xx itself.
    expect(await run("http.get", `${ALLOWED}/away`)).toBe("301  ");
  });

  it("rejects a route pattern without an absolute URL", () => {
    expect(() => new CannedHttp().on("GET /relative", {})).toThrow('"GET /relative" is not "[METHOD ]URL" with an absolute URL');
  });
});

describe("cache, config and schedules", () => {
  it("shares the plugin's cache with the test", async () => {
    expect(await run("cache.set.string", "greeting", "hi")).toBe("ok");
    expect(await probe.cache.get("greeting")).toEqual({ type: "string", value: "hi" });
    await probe.cache.set("counter", { type: "int", value: 41n });
    expect(await run("cache.get.int", "counter")).toBe("41");
    expect(probe.cache.keys().sort()).toEqual(["counter", "greeting"]);
    await probe.cache.clear();
    expect(await run("cache.get.string", "greeting")).toBe("(missing)");
    expect(probe.cache.keys()).toEqual([]);
  });

  it("hands the plugin the config the test sets", async () => {
    expect(await run("config")).toBe("clientid=abc");
    await probe.setConfig({ clientid: "xyz", region: "eu" });
    expect(await run("config")).toBe("clientid=xyz;region=eu");
  });

  it("records schedules without firing them, and fires one on request", async () => {
    expect(await run("schedule.once", "later")).toBe("later");
    expect(await probe.schedules.get("later")).toMatchObject({ kind: "once", delaySeconds: 60 });
    // host_probe has no SchedulerCallback: firing removes the one-time schedule, then the call fails.
    await expect(probe.schedules.fire("later")).rejects.toMatchObject({ code: "not_implemented" });
    expect(await probe.schedules.list()).toEqual([]);
    await expect(probe.schedules.fire("never-set")).rejects.toThrow('plugin host_probe has no schedule "never-set"');
  });

  it("runs OnInit at start like the host, and fires recurring schedules without removing them", async () => {
    await using multi = await startPlugin(fixture("multi_plugin"));
    const [recurring] = await multi.schedules.list();
    expect(recurring).toMatchObject({ kind: "recurring", expression: "@every 5s" });
    expect(Buffer.from(recurring?.payload ?? []).toString()).toBe("every 5 seconds");
    expect(await multi.schedules.fire(recurring?.scheduleId ?? "")).toEqual({});
    expect(await multi.schedules.list()).toHaveLength(1);
  });

  it("rejects at start when OnInit fails, with the plugin's reason", async () => {
    await expect(startPlugin(fixture("fake_init_service"), { config: { returnError: "response_error" } })).rejects.toThrow(
      "initialization failed with response error",
    );
    await using skipped = await startPlugin(fixture("fake_init_service"), { config: { returnError: "go_error" }, init: false });
    await expect(skipped.init()).rejects.toThrow("initialization failed with Go error");
    await expect(skipped.init({})).resolves.toBeUndefined();
  });
});

describe("calls", () => {
  it("answers in protobuf JSON and rejects with the call's error code", async () => {
    await using agent = await startPlugin(fixture("fake_artist_agent"));
    expect(await agent.call("MetadataAgent/GetArtistMBID", { name: "The Beatles" })).toEqual({ mbid: "1234567890" });
    const missing = await agent.call("MetadataAgent/GetArtistMBID", { name: "" }).catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(CallError);
    expect(missing).toMatchObject({ code: "not_found", message: "plugin:not_found" });
    await expect(agent.call("MetadataAgent/GetAlbumInfo", {})).rejects.toMatchObject({ code: "not_implemented" });
    await expect(agent.call("GetArtistMBID", {})).rejects.toMatchObject({ code: "bad_request" });
    await expect(agent.call("MetadataAgent/GetArtistMBID", { nope: 1 })).rejects.toMatchObject({ code: "bad_request" });
  });

  it("collects what the plugin logs", async () => {
    await using scrobbler = await startPlugin(fixture("fake_scrobbler"));
    await scrobbler.call("Scrobbler/IsAuthorized", { username: "alice" });
    expect(scrobbler.logs).toContain("fake_scrobbler: IsAuthorized user=alice");
  });

  it("says clearly when the folder holds no built plugin", async () => {
    await expect(startPlugin(fixturePaths.buildRoot)).rejects.toThrow(/is not a built plugin folder \(plugin\.wasm and manifest\.json\)/);
  });
});

describe("serving canned answers on a loopback port", () => {
  it("answers as the origin it stands in for, to real HTTP clients and to plugins on the network", async () => {
    const upstream = new CannedHttp().on("GET https://api.example.com/allowed/greeting?*", (req) => ({
      json: { hello: req.url.searchParams.get("to") },
    }));
    const served = await serveCannedHttp(upstream, "https://api.example.com");
    try {
      const response = await fetch(`${served.url}/allowed/greeting?to=you`);
      expect(await response.json()).toEqual({ hello: "you" });
      expect(upstream.requests.map(String)).toEqual(["GET https://api.example.com/allowed/greeting?to=you"]);
      expect((await fetch(`${served.url}/other`)).status).toBe(502);

      await using networked = await startPlugin(fixture("host_probe"), { http: "network" });
      const answer = (await networked.call("MetadataAgent/GetArtistBiography", { name: "http.get", id: `${served.url}/allowed/greeting?to=plugin` })) as {
        biography: string;
      };
      expect(answer.biography).toBe('200 application/json {"hello":"plugin"}');
    } finally {
      await served.close();
    }
  });
});
