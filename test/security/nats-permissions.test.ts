// infra/nats-server.conf on a real nats-server: each role is refused outside its subjects (the
// server answers a permissions violation) and allowed inside them. The whole cluster working under
// these users is shown by locked-cluster.test.ts.
import { BusError, connectNatsBus, ensureScrobbleStreams, publishScrobble, storageNames, subjects, type Bus } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NAMESPACE, NATS_ROLES, recordingLogger, startLockedNats, type LockedNats, type LogLine, type NatsRole } from "./locked-servers.js";

const names = subjects(NAMESPACE);
const storage = storageNames(NAMESPACE);
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

let nats: LockedNats;
const buses = new Map<NatsRole, { bus: Bus; logs: LogLine[] }>();

function role(name: NatsRole): { bus: Bus; logs: LogLine[] } {
  const entry = buses.get(name);
  if (!entry) throw new Error(`no bus for ${name}`);
  return entry;
}

async function open(name: NatsRole): Promise<void> {
  const logger = recordingLogger();
  const bus = await connectNatsBus({
    servers: nats.url,
    namespace: NAMESPACE,
    name: `security-${name}`,
    user: name,
    password: nats.passwords[name],
    waitForServer: false,
    logger,
  });
  buses.set(name, { bus, logs: logger.lines });
}

/** The permissions violation somewhere in an error's cause chain. */
function violationOf(err: unknown): { operation: string; subject: string } | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.name === "PermissionViolationError") return e as unknown as { operation: string; subject: string };
  }
  return undefined;
}

/** Runs a request-like operation and returns the violation it was refused with. */
async function refused(operation: () => Promise<unknown>): Promise<{ operation: string; subject: string }> {
  try {
    await operation();
  } catch (err) {
    const violation = violationOf(err);
    if (violation) return { operation: violation.operation, subject: violation.subject };
    throw err;
  }
  throw new Error("the operation was allowed");
}

/** The server's refusal of a subscription or plain publish reaches the bus's logger. */
async function refusedAsync(name: NatsRole, operation: "publish" | "subscription", subject: string, act: (bus: Bus) => void): Promise<void> {
  const { bus, logs } = role(name);
  act(bus);
  await bus.flush();
  await expect
    .poll(() =>
      logs.some((line) => {
        const violation = violationOf(line.fields.err);
        return violation?.operation === operation && violation.subject === subject;
      }),
    )
    .toBe(true);
}

beforeAll(async () => {
  nats = await startLockedNats();
  for (const name of NATS_ROLES) await open(name);
  // What the registry and gateway own exists before the others read it, as in a running cluster.
  const plugins = await role("registry").bus.kv(storage.pluginsBucket);
  await plugins.put("fake_artist_agent", bytes("record"));
  await (await role("registry").bus.objects(storage.artifactsStore)).put("a".repeat(64), bytes("wasm"));
  await role("registry").bus.kv(storage.leasesBucket);
  await role("gateway").bus.kv(storage.websocketsBucket);
  await ensureScrobbleStreams(role("worker").bus, { retentionMs: 3_600_000 });
});

afterAll(async () => {
  await Promise.all([...buses.values()].map(({ bus }) => bus.close()));
  await nats?.dispose();
});

describe("authentication", () => {
  it.each([
    ["no credentials", {}],
    ["a wrong password", { user: "worker", password: "not-it" }],
    ["an unknown user", { user: "admin", password: "admin" }],
    ["another role's password", { user: "music", password: "" }],
  ])("refuses %s at once, saying the credentials were refused", async (_, credentials) => {
    const withPassword =
      "password" in credentials && credentials.password === "" ? { ...credentials, password: nats.passwords.registry } : credentials;
    const connecting = connectNatsBus({ servers: nats.url, namespace: NAMESPACE, name: "intruder", waitForServer: false, ...withPassword });
    await expect(connecting).rejects.toBeInstanceOf(BusError);
    await expect(connecting).rejects.toThrow(/refused the credentials: .*Authorization Violation/i);
  });
});

describe("inside its subjects, each role", () => {
  it("registry: writes plugin records and artifacts, which workers and schedulers read", async () => {
    const records = await role("registry").bus.kv(storage.pluginsBucket);
    await records.put("host_probe", bytes("record v2"));
    await (await role("registry").bus.objects(storage.artifactsStore)).put("b".repeat(64), bytes("wasm v2"));

    for (const reader of ["worker", "scheduler"] as const) {
      const kv = await role(reader).bus.kv(storage.pluginsBucket);
      expect(text((await kv.get("host_probe"))?.value ?? new Uint8Array())).toBe("record v2");
    }
    const artifacts = await role("worker").bus.objects(storage.artifactsStore);
    expect(text((await artifacts.get("b".repeat(64))) ?? new Uint8Array())).toBe("wasm v2");
  });

  it("worker: serves the music server's calls and agents requests", async () => {
    const worker = role("worker").bus;
    const calls = worker.subscribe(names.allCalls, { queue: "workers" }, (m) => void worker.respond(m, bytes(`answer to ${m.subject}`)));
    const agents = worker.subscribe(names.allAgents, { queue: "workers" }, (m) => void worker.respond(m, bytes("agents")));
    await worker.flush();
    try {
      const subject = names.call("fake_artist_agent", "MetadataAgent", "GetArtistMBID");
      expect(text((await role("music").bus.request(subject, bytes("{}"), { timeoutMs: 2_000 })).data)).toBe(`answer to ${subject}`);
      expect(text((await role("music").bus.request(names.agents("GetArtistMBID"), bytes("{}"), { timeoutMs: 2_000 })).data)).toBe("agents");
      const scheduled = names.call("multi_plugin", "SchedulerCallback", "OnSchedulerCallback");
      expect(text((await role("scheduler").bus.request(scheduled, bytes(""), { timeoutMs: 2_000 })).data)).toBe(`answer to ${scheduled}`);
    } finally {
      calls.unsubscribe();
      agents.unsubscribe();
    }
  });

  it("music server: publishes scrobbles into JetStream, which a worker's durable consumer pulls", async () => {
    const ack = await publishScrobble(role("music").bus, {
      kind: busProto.ScrobbleEvent_Kind.SUBMIT,
      userId: "DJ Ann",
      track: { id: "t1" },
      timestamp: 1n,
      eventId: "permissions-1",
    });
    expect(ack.stream).toBe(storage.scrobbleStream);
    const consumer = await role("worker").bus.consumer(storage.scrobbleStream, storage.scrobbleConsumer("fake_scrobbler"));
    const messages = await consumer.consume();
    for await (const message of messages) {
      expect(message.subject).toBe(names.scrobble("submit", "DJ Ann"));
      message.ack();
      break;
    }
    await messages.stop();
  });
});

describe("the operator's command line", () => {
  it("uploads packages for the registry and asks it, but cannot write records or serve calls", async () => {
    const operator = role("operator").bus;
    const uploads = await operator.objects(storage.bucket("packages"));
    await uploads.put("upload-1", bytes("package"));
    expect(text((await (await role("registry").bus.objects(storage.bucket("packages"))).get("upload-1")) ?? new Uint8Array())).toBe("package");
    // Nobody serves registry requests here: the server let the request through, no one answered.
    await expect(operator.request(names.registryRefresh, bytes(""), { timeoutMs: 2_000 })).rejects.toMatchObject({ code: "no_responders" });
    expect(await refused(() => operator.kv(storage.pluginsBucket))).toMatchObject({ operation: "publish" });
    await refusedAsync("operator", "subscription", names.allCalls, (bus) => bus.subscribe(names.allCalls, {}, () => undefined));
  });
});

describe("outside its subjects", () => {
  it("a worker cannot write plugin records, artifacts or the registry's lease", async () => {
    const records = await role("worker").bus.kv(storage.pluginsBucket);
    expect(await refused(() => records.put("fake_artist_agent", bytes("forged")))).toEqual({
      operation: "publish",
      subject: `$KV.${storage.pluginsBucket}.fake_artist_agent`,
    });
    expect(await refused(() => records.delete("fake_artist_agent"))).toMatchObject({ subject: `$KV.${storage.pluginsBucket}.fake_artist_agent` });
    const artifacts = await role("worker").bus.objects(storage.artifactsStore);
    expect(await refused(() => artifacts.put("c".repeat(64), bytes("forged wasm")))).toMatchObject({ operation: "publish" });
    // Workers hold per-plugin scrobble leases in the leases bucket, never the registry's.
    const leases = await role("worker").bus.kv(storage.leasesBucket);
    await leases.put("scrobbles.fake_scrobbler", bytes("worker-1"));
    expect(text((await leases.get("scrobbles.fake_scrobbler"))?.value ?? new Uint8Array())).toBe("worker-1");
    expect(await refused(() => leases.put("registry", bytes("stolen")))).toEqual({ operation: "publish", subject: `$KV.${storage.leasesBucket}.registry` });
    expect(await refused(() => leases.get("registry"))).toMatchObject({ operation: "publish" });
    // Nothing changed: the registry reads what it wrote.
    const kv = await role("registry").bus.kv(storage.pluginsBucket);
    expect(text((await kv.get("fake_artist_agent"))?.value ?? new Uint8Array())).toBe("record");
  });

  it.each(["worker", "gateway", "scheduler"] as const)("the %s cannot impersonate the registry", async (name) => {
    await refusedAsync(name, "publish", names.pluginEvents("fake_artist_agent"), (bus) => bus.publish(names.pluginEvents("fake_artist_agent"), bytes("forged")));
    await refusedAsync(name, "subscription", names.registryGet, (bus) => bus.subscribe(names.registryGet, { queue: "registry" }, () => undefined));
    expect(await refused(() => role(name).bus.request(`${names.prefix}.worker.verify`, bytes(""), { timeoutMs: 2_000 }))).toMatchObject({
      operation: "publish",
    });
    expect(await refused(() => role(name).bus.request(names.call("fake_init_service", "LifecycleManagement", "OnInit"), bytes(""), { timeoutMs: 2_000 }))).toEqual({
      operation: "publish",
      subject: names.call("fake_init_service", "LifecycleManagement", "OnInit"),
    });
  });

  it("the music server cannot read records or artifacts, nor serve calls", async () => {
    const music = role("music").bus;
    // nats.js hands out the store without its stream info; the read is what the server refuses.
    expect(await refused(async () => (await music.objects(storage.artifactsStore)).get("a".repeat(64)))).toEqual({
      operation: "publish",
      subject: `$JS.API.STREAM.MSG.GET.OBJ_${storage.artifactsStore}`,
    });
    expect(await refused(() => music.kv(storage.pluginsBucket))).toMatchObject({ subject: `$JS.API.STREAM.INFO.KV_${storage.pluginsBucket}` });
    await refusedAsync("music", "subscription", names.allCalls, (bus) => bus.subscribe(names.allCalls, { queue: "workers" }, () => undefined));
    await refusedAsync("music", "subscription", names.allAgents, (bus) => bus.subscribe(names.allAgents, {}, () => undefined));
  });

  it("the music server cannot fake the scheduler's, gateway's or registry's calls, nor read others' replies", async () => {
    const music = role("music").bus;
    for (const [capability, method] of [
      ["SchedulerCallback", "OnSchedulerCallback"],
      ["WebSocketCallback", "OnTextMessage"],
      ["LifecycleManagement", "OnInit"],
    ] as const) {
      const subject = names.call("multi_plugin", capability, method);
      expect(await refused(() => music.request(subject, bytes(""), { timeoutMs: 2_000 }))).toEqual({ operation: "publish", subject });
    }
    expect(await refused(() => music.request(names.gateway("Connect"), bytes(""), { timeoutMs: 2_000 }))).toMatchObject({ operation: "publish" });
    const workerReplies = "_INBOX.tonearm.default.worker.>";
    await refusedAsync("music", "subscription", workerReplies, (bus) => bus.subscribe(workerReplies, {}, () => undefined));
  });

  it("the scheduler calls only SchedulerCallback, and the gateway only WebSocketCallback", async () => {
    const agentCall = names.call("fake_artist_agent", "MetadataAgent", "GetArtistMBID");
    expect(await refused(() => role("scheduler").bus.request(agentCall, bytes(""), { timeoutMs: 2_000 }))).toEqual({ operation: "publish", subject: agentCall });
    const scheduled = names.call("multi_plugin", "SchedulerCallback", "OnSchedulerCallback");
    expect(await refused(() => role("gateway").bus.request(scheduled, bytes(""), { timeoutMs: 2_000 }))).toEqual({ operation: "publish", subject: scheduled });
    expect(await refused(() => role("gateway").bus.kv(storage.pluginsBucket))).toMatchObject({ operation: "publish" });
  });

  it("the music server cannot forge dead letters, which only workers write", async () => {
    const dead = names.deadScrobble("fake_scrobbler", "DJ Ann");
    expect(await refused(() => role("music").bus.persist(dead, bytes("forged")))).toEqual({ operation: "publish", subject: dead });
    expect((await role("worker").bus.persist(dead, bytes("given up"))).stream).toBe(storage.deadScrobbleStream);
  });

  it("no role but the music server publishes scrobbles", async () => {
    for (const name of ["worker", "gateway", "scheduler", "registry"] as const) {
      const subject = names.scrobble("submit", `forged-by-${name}`);
      expect(await refused(() => role(name).bus.persist(subject, bytes("forged")))).toEqual({ operation: "publish", subject });
    }
  });
});
