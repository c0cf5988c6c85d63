import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { BusError, connectNatsBus, type Bus } from "@tonearm/bus";
import { freePort, natsUrl, startNats, testNamespace } from "@tonearm/test-harness";
import { describe, expect, it } from "vitest";
import { busContract } from "./contract.js";
import { Inbox, bytes, recordingLogger, text, withLimit } from "./waiting.js";

busContract("nats", async (logger) => {
  const url = await natsUrl();
  const namespace = testNamespace();
  const open = (): Promise<Bus> => connectNatsBus({ servers: url, name: `bus-contract-${namespace}`, namespace, logger });
  const bus = await open();
  const others: Bus[] = [];
  return {
    bus,
    logs: logger.lines,
    namespace,
    openAnother: async () => {
      const other = await open();
      others.push(other);
      return other;
    },
    dispose: async () => {
      await Promise.all([bus, ...others].map((b) => b.close()));
      await removeStreamsOf(url, namespace);
    },
  };
});

/** Streams, KV buckets (KV_*) and object stores (OBJ_*) of the run all carry its namespace. */
async function removeStreamsOf(url: string, namespace: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.includes(namespace)) names.push(name);
    await Promise.all(names.map((name) => jsm.streams.delete(name)));
  } finally {
    await nc.close();
  }
}

describe("NATS bus replies", () => {
  it("drain sends the replies of handlers that finish while it waits", async () => {
    const namespace = testNamespace();
    const open = async (name: string): Promise<Bus> => connectNatsBus({ servers: await natsUrl(), name, namespace });
    const [requester, responder] = await Promise.all([open("bus-drain-requester"), open("bus-drain-responder")]);
    try {
      const p = `tonearm.${namespace}.late`;
      const started = new Inbox<string>();
      responder.subscribe(p, {}, async (m) => {
        started.push("started");
        await new Promise((resolve) => setTimeout(resolve, 100));
        responder.respond(m, bytes(`late ${text(m.data)}`));
      });
      await responder.flush();
      const replies = Promise.all(["a", "b", "c"].map((x) => requester.request(p, bytes(x), { timeoutMs: 5000 })));
      await started.until(3);
      await responder.drain();
      expect((await replies).map((r) => text(r.data)).sort()).toEqual(["late a", "late b", "late c"]);
    } finally {
      await Promise.all([requester.close(), responder.close()]);
    }
  });

  it("refuses a reply larger than the server's max_payload at once, as publish does", async () => {
    const namespace = testNamespace();
    const bus = await connectNatsBus({ servers: await natsUrl(), name: "bus-max-payload", namespace });
    try {
      const p = `tonearm.${namespace}.big`;
      const refused = new Inbox<unknown>();
      bus.subscribe(p, {}, (m) => {
        try {
          bus.respond(m, new Uint8Array(8 * 1024 * 1024));
          refused.push(undefined);
        } catch (err) {
          refused.push(err);
          bus.respond(m, bytes("too big"));
        }
      });
      await bus.flush();
      const reply = await bus.request(p, bytes("?"), { timeoutMs: 5000 });
      expect(text(reply.data)).toBe("too big");
      const [err] = await refused.until(1);
      expect(err).toMatchObject({ name: "BusError", code: "invalid_argument" });
      expect(() => bus.publish(p, new Uint8Array(8 * 1024 * 1024))).toThrow(/max_payload/);
    } finally {
      await bus.close();
    }
  });
});

describe("connectNatsBus", () => {
  it("fails at once with `disconnected` when told not to wait for a missing server", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const connecting = connectNatsBus({ servers: url, name: "nobody-home", namespace: "t", waitForServer: false });
    await expect(connecting).rejects.toMatchObject({ name: "BusError", code: "disconnected" });
    await expect(connecting).rejects.toThrow(url);
  });
});

describe("NATS bus across a server restart", () => {
  it("reconnects by itself, resubscribes, and publishing resumes", async () => {
    const server = await startNats({ jetstream: false });
    const logger = recordingLogger();
    const bus = await connectNatsBus({
      servers: server.url,
      name: "bus-reconnect",
      namespace: testNamespace(),
      logger,
      reconnectTimeWaitMs: 50,
    });
    try {
      const inbox = new Inbox<string>();
      bus.subscribe("t.reconnect", {}, (m) => inbox.push(text(m.data)));
      await bus.flush();
      bus.publish("t.reconnect", bytes("before"));
      await inbox.until(1);

      await server.stop();
      await expect(bus.flush()).rejects.toMatchObject({ code: "disconnected" });
      await server.restart();
      // A flush succeeds once the client has reconnected and sent its subscriptions again; each
      // failed one was cut by a reconnect attempt, so this loop waits on events, not on time.
      await withLimit(flushUntilConnected(bus), 5_000, () => "no reconnect");
      bus.publish("t.reconnect", bytes("after"));

      expect(await inbox.until(2)).toEqual(["before", "after"]);
      expect(logger.lines.map((l) => l.message)).toEqual(
        expect.arrayContaining(["disconnected from NATS", "reconnected to NATS"]),
      );
    } finally {
      await bus.close();
      await server.dispose();
    }
  });
});

async function flushUntilConnected(bus: Bus): Promise<void> {
  for (;;) {
    try {
      return await bus.flush();
    } catch (err) {
      if (!BusError.is(err, "disconnected")) throw err;
    }
  }
}
