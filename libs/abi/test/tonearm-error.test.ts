// Errors that cross a thread or a vm context keep their class for `instanceof`.
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { CallError, CallErrorCode, TonearmError } from "../src/index.js";

class ExampleError extends TonearmError {}
class NarrowerError extends ExampleError {}

describe("TonearmError", () => {
  it("names the error after its class and keeps message and cause", () => {
    const cause = new Error("under");
    const error = new NarrowerError("over", { cause });
    expect(error.name).toBe("NarrowerError");
    expect(error.message).toBe("over");
    expect(error.cause).toBe(cause);
    expect(error.stack).toContain("NarrowerError: over");
  });

  it("is an instance of its class and of every class it extends, and of no other", () => {
    const error = new NarrowerError("x");
    expect(error instanceof NarrowerError).toBe(true);
    expect(error instanceof ExampleError).toBe(true);
    expect(error instanceof TonearmError).toBe(true);
    expect(error instanceof Error).toBe(true);
    expect(new ExampleError("x") instanceof NarrowerError).toBe(false);
    expect(error instanceof CallError).toBe(false);
    expect(new Error("x") instanceof TonearmError).toBe(false);
    expect(null instanceof TonearmError).toBe(false);
  });

  it("recognises an error made by another copy of the class, in another realm", () => {
    // What a structured clone or a second copy of the package yields: same registered symbols, other prototypes.
    const foreign = runInNewContext(`
      const e = new Error("from elsewhere");
      e.code = "timeout";
      Object.defineProperty(e, Symbol.for("tonearm.CallError"), { value: true });
      Object.defineProperty(e, Symbol.for("tonearm.TonearmError"), { value: true });
      e`) as unknown;
    expect(foreign instanceof CallError).toBe(true);
    expect(foreign instanceof TonearmError).toBe(true);
    expect(foreign instanceof ExampleError).toBe(false);
    expect(new CallError(CallErrorCode.Timeout, "t") instanceof CallError).toBe(true);
  });
});
