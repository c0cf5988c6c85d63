// The behaviour every Bus adapter must share. memory.test.ts and nats.test.ts run it, each with
// its own factory; a difference between the adapters fails one of them.
import { createHash, randomBytes } from "node:crypto";
import { BusError, type Bus, type BusMessage, type StreamMessage } from "@tonearm/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Inbox, Reader, bytes, eventually, recordingLogger, text, withLimit, type LogLine } from "./waiting.js";

export interface BusUnderTest {
  /** The bus most tests share. Its logger's lines are in `logs`. */
  readonly bus: Bus;
  readonly logs: LogLine[];
  /** Unique per run: a prefix for subjects, bucket and stream names. */
  readonly namespace: string;
  /** A bus of its own, for tests that close it (on NATS a second connection to the same server). */
  openAnother(): Promise<Bus>;
  /** Removes what the run created and closes the buses. */
  dispose(): Promise<void>;
}

export type BusFactory = (logger: ReturnType<typeof recordingLogger>) => Promise<BusUnderTest>;

async function expectBusError(promise: Promise<unknown>, code: BusError["code"]): Promise<BusError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected BusError ${code}`).toBeInstanceOf(BusError);
  expect((err as BusError).code).toBe(code);
  return err as BusError;
}

function expectThrowsBusError(action: () => unknown, code: BusError["code"]): void {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe(code);
    return;
  }
  throw new Error(`expected BusError ${code}, nothing was thrown`);
}

export function busContract(adapter: string, factory: BusFactory): void {
  describe(`Bus contract: ${adapter}`, () => {
    let t: BusUnderTest;
    let bus: Bus;
    let n = 0;
    /** A fresh subject prefix per use, so tests never see each other's messages. */
    const prefix = (): string => `t.${t.namespace}.s${++n}`;
    const name = (purpose: string): string => `${t.namespace}_${purpose}${++n}`;

    beforeAll(async () => {
      t = await factory(recordingLogger());
      bus = t.bus;
    });
    afterAll(async () => {
      await t?.dispose();
    });

    describe("publish and subscribe", () => {
      it("matches `*` to one token and `>` to one or more", async () => {
        const p = prefix();
        const star = new Inbox<string>();
        const tail = new Inbox<string>();
        bus.subscribe(`${p}.*.x`, {}, (m) => star.push(m.subject));
        bus.subscribe(`${p}.>`, {}, (m) => tail.push(m.subject));
        await bus.flush();
        for (const s of [`${p}.a.x`, `${p}.a.b.x`, `${p}.a.y`, p, `${p}.end.x`]) bus.publish(s, bytes(s));
        await Promise.all([star.until(2), tail.until(4)]);
        await bus.flush();
        expect(star.items).toEqual([`${p}.a.x`, `${p}.end.x`]);
        expect(tail.items).toEqual([`${p}.a.x`, `${p}.a.b.x`, `${p}.a.y`, `${p}.end.x`]);
      });

      it("carries data bytes and headers unchanged", async () => {
        const p = prefix();
        const inbox = new Inbox<BusMessage>();
        bus.subscribe(p, {}, inbox.push);
        await bus.flush();
        const data = Uint8Array.from({ length: 256 }, (_, i) => i);
        const headers = { "Tonearm-Caller": "cli", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
        bus.publish(p, data, { headers });
        const [m] = await inbox.until(1);
        expect(m?.subject).toBe(p);
        expect(Array.from(m?.data ?? [])).toEqual(Array.from(data));
        expect(m?.headers).toEqual(headers);
        expect(m?.reply).toBeUndefined();
      });

      it("gives each message of a queue group to exactly one member, and every plain subscriber all", async () => {
        const p = prefix();
        const first = new Inbox<string>();
        const second = new Inbox<string>();
        const everyone = new Inbox<string>();
        const total = new Inbox<string>();
        bus.subscribe(p, { queue: "workers" }, (m) => {
          first.push(text(m.data));
          total.push(text(m.data));
        });
        bus.subscribe(p, { queue: "workers" }, (m) => {
          second.push(text(m.data));
          total.push(text(m.data));
        });
        bus.subscribe(p, {}, (m) => everyone.push(text(m.data)));
        await bus.flush();
        const sent = Array.from({ length: 40 }, (_, i) => `m${i}`);
        for (const s of sent) bus.publish(p, bytes(s));
        await Promise.all([total.until(40), everyone.until(40)]);
        await bus.flush();
        expect(total.items.length).toBe(40);
        expect(new Set(total.items)).toEqual(new Set(sent));
        expect(first.items.length).toBeGreaterThan(0);
        expect(second.items.length).toBeGreaterThan(0);
        expect(everyone.items).toEqual(sent);
      });

      it("stops delivering after unsubscribe", async () => {
        const p = prefix();
        const inbox = new Inbox<string>();
        const sub = bus.subscribe(p, {}, (m) => inbox.push(text(m.data)));
        const sentinel = new Inbox<string>();
        bus.subscribe(`${p}.end`, {}, (m) => sentinel.push(text(m.data)));
        await bus.flush();
        bus.publish(p, bytes("before"));
        await inbox.until(1);
        sub.unsubscribe();
        await sub.closed();
        await bus.flush();
        bus.publish(p, bytes("after"));
        bus.publish(`${p}.end`, bytes("end"));
        await sentinel.until(1);
        expect(inbox.items).toEqual(["before"]);
      });

      it("logs a handler that throws and keeps the subscription", async () => {
        const p = prefix();
        const inbox = new Inbox<string>();
        bus.subscribe(p, {}, (m) => {
          if (text(m.data) === "boom") throw new Error("handler exploded");
          inbox.push(text(m.data));
        });
        bus.subscribe(`${p}.async`, {}, async () => {
          await Promise.resolve();
          throw new Error("async handler exploded");
        });
        await bus.flush();
        bus.publish(p, bytes("boom"));
        bus.publish(`${p}.async`, bytes("boom"));
        bus.publish(p, bytes("fine"));
        await inbox.until(1);
        expect(inbox.items).toEqual(["fine"]);
        await eventually(async () => t.logs.filter((l) => String(l.fields.err).includes("exploded")).length === 2);
        const line = t.logs.find((l) => String(l.fields.err).includes("handler exploded"));
        expect(line?.level).toBe("error");
        expect(line?.fields.subject).toBe(p);
      });

      it("drains a subscription only after its running handlers finish", async () => {
        const p = prefix();
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const started = new Inbox<string>();
        let finished = false;
        const sub = bus.subscribe(p, {}, async (m) => {
          started.push(text(m.data));
          await gate;
          finished = true;
        });
        await bus.flush();
        bus.publish(p, bytes("slow"));
        await started.until(1);
        let drained = false;
        const draining = sub.drain().then(() => (drained = true));
        await bus.flush();
        expect(drained).toBe(false);
        release();
        await draining;
        expect(finished).toBe(true);
      });
    });

    describe("request and reply", () => {
      it("answers a request, headers both ways", async () => {
        const p = prefix();
        bus.subscribe(p, { queue: "responders" }, (m) => {
          bus.respond(m, bytes(`echo ${text(m.data)}`), { headers: { "Reply-Header": m.headers["Request-Header"] ?? "" } });
        });
        await bus.flush();
        const reply = await bus.request(p, bytes("hi"), { timeoutMs: 2000, headers: { "Request-Header": "h1" } });
        expect(text(reply.data)).toBe("echo hi");
        expect(reply.headers["Reply-Header"]).toBe("h1");
      });

      it("respond returns false for a message that expects no reply", async () => {
        const p = prefix();
        const answered = new Inbox<boolean>();
        bus.subscribe(p, {}, (m) => answered.push(bus.respond(m, bytes("x"))));
        await bus.flush();
        bus.publish(p, bytes("no reply wanted"));
        expect(await answered.until(1)).toEqual([false]);
      });

      it("fails with `timeout` when the responder stays silent", async () => {
        const p = prefix();
        bus.subscribe(p, {}, () => undefined);
        await bus.flush();
        const err = await expectBusError(bus.request(p, bytes("?"), { timeoutMs: 100 }), "timeout");
        expect(err.message).toContain(p);
      });

      it("fails with `no_responders` at once when nobody listens", async () => {
        const p = prefix();
        const started = Date.now();
        await expectBusError(bus.request(p, bytes("?"), { timeoutMs: 10_000 }), "no_responders");
        expect(Date.now() - started).toBeLessThan(5_000);
      });
    });

    describe("key-value", () => {
      it("puts, gets, and counts revisions up", async () => {
        const kv = await bus.kv(name("kv"));
        expect(await kv.get("missing")).toBeUndefined();
        const r1 = await kv.put("plugins.a", bytes("one"));
        const r2 = await kv.put("plugins.a", bytes("two"));
        expect(r2).toBeGreaterThan(r1);
        const entry = await kv.get("plugins.a");
        expect(entry && text(entry.value)).toBe("two");
        expect(entry?.revision).toBe(r2);
        expect(entry?.key).toBe("plugins.a");
      });

      it("create fails with `exists` on a live key and succeeds after delete", async () => {
        const kv = await bus.kv(name("kv"));
        await kv.create("lease", bytes("holder-1"));
        await expectBusError(kv.create("lease", bytes("holder-2")), "exists");
        await kv.delete("lease");
        expect(await kv.get("lease")).toBeUndefined();
        await kv.create("lease", bytes("holder-2"));
        expect(text((await kv.get("lease"))?.value ?? new Uint8Array())).toBe("holder-2");
      });

      it("update is compare-and-set on the latest revision", async () => {
        const kv = await bus.kv(name("kv"));
        const r1 = await kv.put("record", bytes("v1"));
        const r2 = await kv.update("record", bytes("v2"), r1);
        await expectBusError(kv.update("record", bytes("stale"), r1), "wrong_revision");
        await expectBusError(kv.update("never-written", bytes("x"), r2), "wrong_revision");
        await expectBusError(kv.update("record", bytes("zero"), 0), "wrong_revision");
        expect(text((await kv.get("record"))?.value ?? new Uint8Array())).toBe("v2");
      });

      it("lists keys holding a value, optionally filtered", async () => {
        const kv = await bus.kv(name("kv"));
        await kv.put("plugins.a", bytes("1"));
        await kv.put("plugins.b", bytes("2"));
        await kv.put("plugins.gone", bytes("3"));
        await kv.put("leases.registry", bytes("4"));
        await kv.delete("plugins.gone");
        const all: string[] = [];
        for await (const key of kv.keys()) all.push(key);
        const plugins: string[] = [];
        for await (const key of kv.keys("plugins.*")) plugins.push(key);
        expect(all.sort()).toEqual(["leases.registry", "plugins.a", "plugins.b"]);
        expect(plugins.sort()).toEqual(["plugins.a", "plugins.b"]);
        const empty = await bus.kv(name("kv"));
        const none: string[] = [];
        for await (const key of empty.keys()) none.push(key);
        expect(none).toEqual([]);
      });

      it("watch yields current values first, then puts and deletes as they happen", async () => {
        const kv = await bus.kv(name("kv"));
        await kv.put("plugins.a", bytes("a1"));
        await kv.put("plugins.removed", bytes("x"));
        await kv.delete("plugins.removed");
        await kv.put("other.z", bytes("z"));
        await kv.put("plugins.b", bytes("b1"));
        const watch = await kv.watch("plugins.>");
        const reader = new Reader(watch);
        const initial = [await reader.next(), await reader.next()];
        expect(initial.map((c) => [c.key, text(c.value), c.operation])).toEqual([
          ["plugins.a", "a1", "put"],
          ["plugins.b", "b1", "put"],
        ]);
        const r = await kv.put("plugins.a", bytes("a2"));
        await kv.put("other.z", bytes("ignored"));
        await kv.delete("plugins.b");
        const update = await reader.next();
        expect([update.key, text(update.value), update.operation, update.revision]).toEqual(["plugins.a", "a2", "put", r]);
        const deletion = await reader.next();
        expect([deletion.key, deletion.operation]).toEqual(["plugins.b", "delete"]);
        watch.stop();
        expect(await reader.ended()).toBe(true);
      });

      it("forgets entries their TTL after the last write", async () => {
        const kv = await bus.kv(name("ttl"), { ttlMs: 500 });
        await kv.put("short", bytes("lived"));
        expect(await kv.get("short")).toBeDefined();
        await eventually(async () => (await kv.get("short")) === undefined);
        await kv.create("short", bytes("again"));
      });

      it("rejects keys and bucket names NATS would reject", async () => {
        const kv = await bus.kv(name("kv"));
        await expectBusError(kv.put("has space", bytes("x")), "invalid_argument");
        await expectBusError(kv.put("a..b", bytes("x")), "invalid_argument");
        await expectBusError(kv.get("*"), "invalid_argument");
        await expectBusError(bus.kv("dotted.bucket"), "invalid_argument");
      });
    });

    describe("object store", () => {
      it("stores, describes, replaces and deletes blobs larger than one chunk", async () => {
        const store = await bus.objects(name("obj"));
        const blob = randomBytes(300 * 1024);
        const info = await store.put("plugin.wasm", blob);
        const sha256 = createHash("sha256").update(blob).digest("hex");
        expect(info).toMatchObject({ name: "plugin.wasm", size: blob.length, sha256 });
        expect(Buffer.from((await store.get("plugin.wasm")) ?? []).equals(blob)).toBe(true);
        expect(await store.info("plugin.wasm")).toMatchObject({ size: blob.length, sha256 });

        await store.put("plugin.wasm", bytes("smaller"));
        expect(text((await store.get("plugin.wasm")) ?? new Uint8Array())).toBe("smaller");

        expect(await store.delete("plugin.wasm")).toBe(true);
        expect(await store.get("plugin.wasm")).toBeUndefined();
        expect(await store.info("plugin.wasm")).toBeUndefined();
        expect(await store.delete("plugin.wasm")).toBe(false);
        expect(await store.get("never-stored")).toBeUndefined();
      });
    });

    describe("streams and durable consumers", () => {
      async function setup(options: Parameters<Bus["consumer"]>[2] = {}) {
        const p = prefix();
        const stream = name("stream");
        await bus.stream(stream, [`${p}.>`]);
        const consumer = await bus.consumer(stream, "scrobbler_a=2Eb", options);
        const messages = await consumer.consume();
        return { p, stream, consumer, messages, reader: new Reader<StreamMessage>(messages) };
      }

      it("delivers stored messages with headers, once when acked", async () => {
        const { p, reader, messages } = await setup({ ackWaitMs: 300 });
        const ack = await bus.persist(`${p}.submit.ann`, bytes("one"), { headers: { "Event-Id": "e1" } });
        expect(ack.duplicate).toBe(false);
        expect(ack.seq).toBeGreaterThan(0);
        const m = await reader.next();
        expect([m.subject, text(m.data), m.headers["Event-Id"], m.seq, m.deliveryCount]).toEqual([
          `${p}.submit.ann`,
          "one",
          "e1",
          ack.seq,
          1,
        ]);
        m.ack();
        expect(await reader.within(900)).toBeUndefined();
        await messages.stop();
      });

      it("redelivers after the ack wait, and at once after a nak", async () => {
        const { p, reader, messages } = await setup({ ackWaitMs: 300 });
        await bus.persist(`${p}.x`, bytes("unacked"));
        const first = await reader.next();
        const second = await reader.next();
        expect([second.seq, second.deliveryCount]).toEqual([first.seq, 2]);
        second.nak();
        const third = await reader.next();
        expect([third.seq, third.deliveryCount]).toEqual([first.seq, 3]);
        third.ack();
        await messages.stop();
      });

      it("redelivers a nak with a delay only after the delay", async () => {
        const { p, reader, messages } = await setup({ ackWaitMs: 5_000 });
        await bus.persist(`${p}.x`, bytes("later"));
        const first = await reader.next();
        first.nak(400);
        expect(await reader.within(150)).toBeUndefined();
        const again = await reader.next();
        expect([again.seq, again.deliveryCount]).toEqual([first.seq, 2]);
        again.ack();
        await messages.stop();
      });

      it("never redelivers a terminated message", async () => {
        const { p, reader, messages } = await setup({ ackWaitMs: 300 });
        await bus.persist(`${p}.x`, bytes("poison"));
        const poison = await reader.next();
        poison.term();
        await bus.persist(`${p}.x`, bytes("next"));
        const next = await reader.next();
        expect(text(next.data)).toBe("next");
        next.ack();
        expect(await reader.within(900)).toBeUndefined();
        await messages.stop();
      });

      it("gives up on a message after maxDeliver deliveries", async () => {
        const { p, reader, messages } = await setup({ ackWaitMs: 200, maxDeliver: 2 });
        await bus.persist(`${p}.x`, bytes("flaky"));
        expect((await reader.next()).deliveryCount).toBe(1);
        expect((await reader.next()).deliveryCount).toBe(2);
        expect(await reader.within(800)).toBeUndefined();
        await messages.stop();
      });

      it("filters by subject and starts new consumers where asked", async () => {
        const p = prefix();
        const stream = name("stream");
        await bus.stream(stream, [`${p}.>`]);
        await bus.persist(`${p}.submit.ann`, bytes("old submit"));
        await bus.persist(`${p}.nowplaying.ann`, bytes("old now playing"));
        const fromStart = await bus.consumer(stream, "submits", { filterSubject: `${p}.submit.>` });
        const onlyNew = await bus.consumer(stream, "fresh", { deliverPolicy: "new" });
        await bus.persist(`${p}.submit.bob`, bytes("new submit"));
        const submits = new Reader(await fromStart.consume());
        const fresh = new Reader(await onlyNew.consume());
        const a = await submits.next();
        const b = await submits.next();
        expect([text(a.data), text(b.data)]).toEqual(["old submit", "new submit"]);
        const c = await fresh.next();
        expect(text(c.data)).toBe("new submit");
        for (const m of [a, b, c]) m.ack();
      });

      it("shares a durable consumer between pullers, each message to one of them", async () => {
        const { p, stream, messages } = await setup({ ackWaitMs: 5_000 });
        await messages.stop();
        const consumer = await bus.consumer(stream, "scrobbler_a=2Eb", { ackWaitMs: 5_000 });
        const got = new Inbox<string>();
        const pullers = await Promise.all([consumer.consume(), consumer.consume()]);
        const loops = pullers.map(async (pulled) => {
          for await (const m of pulled) {
            got.push(text(m.data));
            m.ack();
          }
        });
        const sent = Array.from({ length: 6 }, (_, i) => `e${i}`);
        for (const s of sent) await bus.persist(`${p}.x`, bytes(s));
        await got.until(6);
        await Promise.all(pullers.map((pulled) => pulled.stop()));
        await withLimit(Promise.all(loops), 5_000, () => "pull loops did not end after stop");
        expect(got.items.sort()).toEqual(sent);
      });

      it("stores a message once per message id", async () => {
        const p = prefix();
        const stream = name("stream");
        await bus.stream(stream, [`${p}.>`]);
        const first = await bus.persist(`${p}.x`, bytes("e"), { messageId: "event-1" });
        const again = await bus.persist(`${p}.x`, bytes("e"), { messageId: "event-1" });
        expect(again).toEqual({ stream, seq: first.seq, duplicate: true });
      });

      it("captures plain publishes on stream subjects", async () => {
        const { p, reader, messages } = await setup();
        bus.publish(`${p}.plain`, bytes("core publish"));
        const m = await reader.next();
        expect(text(m.data)).toBe("core publish");
        m.ack();
        await messages.stop();
      });

      it("keeps only the newest message of each subject when asked", async () => {
        const p = prefix();
        const stream = name("latest");
        await bus.stream(stream, [`${p}.>`], { maxMessagesPerSubject: 1 });
        for (const s of ["ann 1", "ann 2", "ann 3"]) await bus.persist(`${p}.ann`, bytes(s));
        await bus.persist(`${p}.bob`, bytes("bob 1"));
        const reader = new Reader(await (await bus.consumer(stream, "latest")).consume());
        const got = [await reader.next(), await reader.next()];
        expect(got.map((m) => text(m.data))).toEqual(["ann 3", "bob 1"]);
        for (const m of got) m.ack();
      });

      it("starts a consumer at a point in time, and never moves it when the options change", async () => {
        const p = prefix();
        const stream = name("stream");
        await bus.stream(stream, [`${p}.>`]);
        await bus.persist(`${p}.x`, bytes("before"));
        await new Promise((resolve) => setTimeout(resolve, 50));
        const startTimeMs = Date.now();
        await bus.persist(`${p}.x`, bytes("after"));
        const consumer = await bus.consumer(stream, "from_time", { deliverPolicy: { startTimeMs } });
        await bus.consumer(stream, "from_time", { deliverPolicy: "all", ackWaitMs: 10_000 });
        const reader = new Reader(await consumer.consume());
        const m = await reader.next();
        expect(text(m.data)).toBe("after");
        m.ack();
        expect(await reader.within(300)).toBeUndefined();
      });

      it("reports pending, ack-pending and redelivered counts, and holds new messages at maxAckPending", async () => {
        const p = prefix();
        const stream = name("stream");
        await bus.stream(stream, [`${p}.>`]);
        const consumer = await bus.consumer(stream, "counted", { ackWaitMs: 5_000, maxAckPending: 2 });
        expect(await bus.consumerInfo(stream, "counted")).toEqual({ pending: 0, ackPending: 0, redelivered: 0 });
        expect(await bus.consumerInfo(stream, "nobody")).toBeUndefined();
        expect(await bus.consumerInfo(name("missing"), "counted")).toBeUndefined();
        for (const s of ["a", "b", "c", "d"]) await bus.persist(`${p}.x`, bytes(s));
        const reader = new Reader(await consumer.consume());
        const a = await reader.next();
        const b = await reader.next();
        // Two unacknowledged: c waits until one of them is acked.
        expect(await reader.within(400)).toBeUndefined();
        a.nak();
        const again = await reader.next();
        expect([text(again.data), again.deliveryCount]).toEqual(["a", 2]);
        await eventually(async () => {
          const info = await consumer.info();
          return info.ackPending === 2 && info.redelivered === 1 && info.pending === 2;
        });
        b.ack();
        const c = await reader.next();
        expect(text(c.data)).toBe("c");
        for (const m of [again, c]) m.ack();
        const d = await reader.next();
        d.ack();
      });

      it("keeps a message being worked on from redelivery", async () => {
        const { p, reader, messages } = await setup({ ackWaitMs: 400 });
        await bus.persist(`${p}.x`, bytes("slow"));
        const m = await reader.next();
        for (let i = 0; i < 4; i++) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          m.working();
        }
        expect(await reader.within(100)).toBeUndefined();
        m.ack();
        await messages.stop();
      });

      it("deletes a consumer left without a puller past its inactive threshold", async () => {
        const p = prefix();
        const stream = name("stream");
        await bus.stream(stream, [`${p}.>`]);
        await bus.consumer(stream, "parked", { inactiveThresholdMs: 1_000 });
        expect(await bus.consumerInfo(stream, "parked")).toBeDefined();
        await eventually(async () => (await bus.consumerInfo(stream, "parked")) === undefined, 6_000);
      });

      it("widens an existing stream and reports what does not exist", async () => {
        const p = prefix();
        const stream = name("stream");
        await bus.stream(stream, [`${p}.a.>`]);
        await bus.stream(stream, [`${p}.a.>`]);
        await expectBusError(bus.persist(`${p}.b.x`, bytes("x")), "not_found");
        await bus.stream(stream, [`${p}.b.>`]);
        expect((await bus.persist(`${p}.b.x`, bytes("x"))).stream).toBe(stream);
        await expectBusError(bus.consumer(name("missing"), "c"), "not_found");
      });
    });

    describe("validation and lifecycle", () => {
      it("rejects subjects a server would reject", () => {
        expectThrowsBusError(() => bus.publish("a..b", bytes("x")), "invalid_argument");
        expectThrowsBusError(() => bus.publish("a.*", bytes("x")), "invalid_argument");
        expectThrowsBusError(() => bus.publish("has space", bytes("x")), "invalid_argument");
        expectThrowsBusError(() => bus.subscribe("a.>.b", {}, () => undefined), "invalid_argument");
        expectThrowsBusError(() => bus.publish("a.b", bytes("x"), { headers: { "Bad:Name": "v" } }), "invalid_argument");
        expectThrowsBusError(() => bus.publish("a.b", bytes("x"), { headers: { Good: "line\nbreak" } }), "invalid_argument");
      });

      it("close fails pending requests and later calls with `closed`", async () => {
        const other = await t.openAnother();
        const p = prefix();
        other.subscribe(p, {}, () => undefined);
        await other.flush();
        const pending = other.request(p, bytes("?"), { timeoutMs: 5_000 });
        await other.close();
        await expectBusError(pending, "closed");
        expect(await other.closed()).toBeUndefined();
        expectThrowsBusError(() => other.publish(p, bytes("x")), "closed");
        await expectBusError(other.request(p, bytes("x"), { timeoutMs: 100 }), "closed");
        await expectBusError(other.kv(name("kv")), "closed");
        await other.close();
      });

      it("close ends KV watches and consumer iterations", async () => {
        const other = await t.openAnother();
        const p = prefix();
        const stream = name("stream");
        await other.stream(stream, [`${p}.>`]);
        const messages = new Reader(await (await other.consumer(stream, "c")).consume());
        const watch = new Reader(await (await other.kv(name("kv"))).watch());
        expect(await messages.within(50)).toBeUndefined();
        await other.close();
        expect(await messages.ended()).toBe(true);
        expect(await watch.ended()).toBe(true);
      });

      it("drain lets running handlers finish before closing", async () => {
        const other = await t.openAnother();
        const p = prefix();
        const started = new Inbox<string>();
        let finished = 0;
        other.subscribe(p, {}, async () => {
          started.push("started");
          await new Promise((resolve) => setTimeout(resolve, 100));
          finished++;
        });
        await other.flush();
        other.publish(p, bytes("x"));
        await started.until(1);
        await other.drain();
        expect(finished).toBe(1);
        expect(await other.closed()).toBeUndefined();
      });
    });
  });
}
