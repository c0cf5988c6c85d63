import { createMemoryBus, type Bus } from "@tonearm/bus";
import { describe, expect, it } from "vitest";
import { testNamespace } from "@tonearm/test-harness";
import { busContract } from "./contract.js";
import { Inbox, bytes, recordingLogger, text } from "./waiting.js";

busContract("memory", async (logger) => {
  const namespace = testNamespace();
  const bus = createMemoryBus({ namespace, logger });
  const others: Bus[] = [];
  return {
    bus,
    logs: logger.lines,
    namespace,
    openAnother: async () => {
      const other = createMemoryBus({ namespace, logger });
      others.push(other);
      return other;
    },
    dispose: async () => {
      await Promise.all([bus, ...others].map((b) => b.close()));
    },
  };
});

describe("memory bus queue groups", () => {
  it("hand messages to the members in turn", async () => {
    const bus = createMemoryBus({ logger: recordingLogger() });
    const first = new Inbox<string>();
    const second = new Inbox<string>();
    bus.subscribe("jobs", { queue: "q" }, (m) => first.push(text(m.data)));
    bus.subscribe("jobs", { queue: "q" }, (m) => second.push(text(m.data)));
    for (let i = 0; i < 6; i++) bus.publish("jobs", bytes(`j${i}`));
    await Promise.all([first.until(3), second.until(3)]);
    expect([first.items, second.items]).toEqual([
      ["j0", "j2", "j4"],
      ["j1", "j3", "j5"],
    ]);
    await bus.close();
  });
});
