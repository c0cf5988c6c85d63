// The plugin commands with `--nats` against a registry and a worker on the real NATS server: the
// errors each command answers, the registry's own checks of an upload, and rollback of an update
// the cluster cannot load. test/cluster/hot-install.test.ts covers the successful round trip.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { callPlugin, connectNatsBus, decodeCallReply, subjects, type Bus } from "@tonearm/bus";
import { parseConfig } from "@tonearm/config";
import { bus as busProto } from "@tonearm/proto";
import { packageUploadStore } from "@tonearm/registry";
import { fixturePaths, natsUrl, redisUrl, testNamespace } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTonearm, type RunningTonearm } from "../dist/index.js";
import { RegistryClient } from "../dist/plugin-cluster.js";
import { runPluginInstall, runPluginRefresh, runPluginRemove, runPluginUpdate, type PluginCommandOptions } from "../dist/plugin-commands.js";
import { capture, fixturePackage, manifestJson, removeScratch, scratchFolder, writePackage, zipArchive } from "./plugin-support.js";

const namespace = testNamespace("pc");
let nats: string;
let folder: string;
let work: string;
let cluster: RunningTonearm;
let bus: Bus;

beforeAll(async () => {
  nats = await natsUrl();
  work = await scratchFolder();
  folder = await scratchFolder("tonearm-registry-folder-");
  const config = parseConfig("", {
    env: {
      TONEARM_MODE: "cluster",
      TONEARM_NAMESPACE: namespace,
      TONEARM_NATS_SERVERS: nats,
      TONEARM_REDIS_URL: await redisUrl(),
      TONEARM_PLUGINS_FOLDER: folder,
      TONEARM_PLUGINS_AUTORELOAD: "false",
      TONEARM_RUNTIME_THREADSMIN: "1",
      TONEARM_LOG_LEVEL: "silent",
      TONEARM_ARTWORK_SECRET: "s",
    },
  });
  cluster = await startTonearm(config, { roles: new Set(["registry", "worker"]), port: 0, host: "127.0.0.1" });
  bus = await connectNatsBus({ servers: nats, namespace, name: "plugin-cluster-test", waitForServer: false });
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await cluster?.stop();
  await removeScratch();
});

const options = (): PluginCommandOptions => ({ nats, namespace, timeout: 20_000 });
const install = (file: string) => capture((io) => runPluginInstall(file, options(), io));
const update = (file: string) => capture((io) => runPluginUpdate(file, options(), io));
const mbid = (plugin: string) => callPlugin(bus, namespace, { plugin, capability: "MetadataAgent", method: "GetArtistMBID", json: { name: "X" }, caller: "test" });

describe("install and update through the cluster", () => {
  it("refuses to install a plugin twice and to update one that is not installed", async () => {
    const file = await writePackage(work, "twice.ndp", await fixturePackage("fake_artist_agent", "twice"));
    expect(await install(file)).toEqual({ code: 0, stdout: "Plugin 'twice' v1.0.0 installed successfully\n", stderr: "" });
    expect(await install(file)).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: bad_request: Plugin already installed: twice (path: ${join(folder, "twice")}); use \`plugin update\`\n`,
    });
    const missing = await writePackage(work, "missing.ndp", await fixturePackage("fake_artist_agent", "missing"));
    expect(await update(missing)).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: not_found: Plugin not found: missing (path: ${join(folder, "missing")}); use \`plugin install\`\n`,
    });
  });

  it("rolls an update the workers cannot load back to the version that serves, which keeps answering", async () => {
    await install(await writePackage(work, "steady-v1.ndp", await fixturePackage("fake_artist_agent", "steady")));
    await expect.poll(() => mbid("steady"), { timeout: 10_000 }).toEqual({ mbid: "1234567890" });
    const v2 = await writePackage(work, "steady-v2.ndp", await fixturePackage("unauthorized_plugin", "steady", { version: "2.0.0" }));
    const run = await update(v2);
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: load_error: plugin 'steady' v2.0.0 did not load, the previous version was restored: "get" is not exported in module "env"\n`,
    });
    expect(JSON.parse(await readFile(join(folder, "steady", "manifest.json"), "utf8"))).toMatchObject({ version: "1.0.0" });
    expect((await readdir(folder)).filter((name) => name.startsWith("."))).toEqual([]);
    await expect.poll(() => mbid("steady"), { timeout: 10_000 }).toEqual({ mbid: "1234567890" });
  });

  const goWasm = join(fixturePaths.plugin("go", "fake_artist_agent_go"), "plugin.wasm");
  it.skipIf(!existsSync(goWasm))("installs a Go plugin's package, larger than one NATS message, through the object store", async () => {
    const bytes = zipArchive([
      { name: "manifest.json", data: manifestJson("go_agent", { capabilities: ["MetadataAgent"] }) },
      { name: "plugin.wasm", data: await readFile(goWasm), method: "store" },
    ]);
    expect(bytes.length).toBeGreaterThan(1024 * 1024);
    const file = await writePackage(work, "go_agent.ndp", bytes);
    expect(await install(file)).toEqual({ code: 0, stdout: "Plugin 'go_agent' v1.0.0 installed successfully\n", stderr: "" });
    await expect.poll(() => mbid("go_agent"), { timeout: 10_000 }).toEqual({ mbid: "1234567890" });
  }, 60_000);

  it("has the registry check an upload itself: hostile content and a wrong SHA-256 are refused", async () => {
    const client = await RegistryClient.connect({ servers: nats, namespace, timeoutMs: 20_000 });
    try {
      const slip = await fixturePackage("fake_artist_agent", "slip", {}, [{ name: "../../escaped", data: "x" }]);
      await expect(client.install(slip, false)).rejects.toMatchObject({
        code: "bad_request",
        message: "failed to load plugin package: illegal file path in plugin package: ../../escaped",
      });
      const link = await fixturePackage("fake_artist_agent", "link", {}, [{ name: "x", data: "/etc/passwd", unixMode: 0o120777 }]);
      await expect(client.install(link, false)).rejects.toMatchObject({ code: "bad_request", message: /illegal file type .*symbolic link/ });
    } finally {
      await client.close();
    }
    const bytes = await fixturePackage("fake_artist_agent", "altered");
    const store = await bus.objects(packageUploadStore(namespace));
    await store.put("altered-upload", bytes);
    const wrongSha = createHash("sha256").update("something else").digest("hex");
    const request = create(busProto.InstallPackageRequestSchema, { packageObject: "altered-upload", packageSha256: wrongSha });
    const reply = await bus.request(subjects(namespace).registryInstall, toBinary(busProto.InstallPackageRequestSchema, request), { timeoutMs: 10_000 });
    expect(() => decodeCallReply(reply)).toThrow(/the uploaded package's SHA-256 is [0-9a-f]{64}, not/);
    expect(await store.info("altered-upload")).toBeUndefined();
    expect((await readdir(folder)).filter((name) => ["slip", "link", "altered", "escaped"].includes(name))).toEqual([]);
  });
});

describe("remove and refresh through the cluster", () => {
  it("answer not_found for a plugin the registry does not have, bad_request for an id outside the folder", async () => {
    expect(await capture((io) => runPluginRemove("nope", options(), io))).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: not_found: plugin not found: nope (path: ${join(folder, "nope")})\n`,
    });
    expect((await capture((io) => runPluginRemove("../x", options(), io))).stderr).toBe(
      'error: bad_request: invalid plugin id "../x": a plugin id is one folder name\n',
    );
    expect(await capture((io) => runPluginRefresh("nope", options(), io))).toEqual({
      code: 1,
      stdout: "Refreshing plugin 'nope'...\n",
      stderr: "error: not_found: plugin not found: nope\n",
    });
  });

  it("say when no registry answers in the namespace", async () => {
    const elsewhere = { nats, namespace: testNamespace("none"), timeout: 5_000 };
    expect(await capture((io) => runPluginRemove("x", elsewhere, io))).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: unavailable: no active registry answers in namespace "${elsewhere.namespace}"\n`,
    });
  });
});
