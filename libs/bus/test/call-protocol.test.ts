// The plugin-call codec, and callPlugin end to end against a stand-in worker on the memory bus.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError, findMethod } from "@tonearm/abi";
import {
  CallContentType,
  CallHeader,
  callPlugin,
  createMemoryBus,
  decodeCallReply,
  decodeCallRequest,
  encodeCallError,
  encodeCallReply,
  encodeCallRequest,
  subjects,
  type Bus,
  type BusMessage,
} from "@tonearm/bus";
import { api } from "@tonearm/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bytes, recordingLogger, text } from "./waiting.js";

const request = create(api.ArtistMBIDRequestSchema, { id: "ar-1", name: "Portishead" });
const requestBytes = toBinary(api.ArtistMBIDRequestSchema, request);
const responseBytes = toBinary(api.ArtistMBIDResponseSchema, create(api.ArtistMBIDResponseSchema, { mbid: "8f6bd1e4" }));

async function callError(promise: Promise<unknown>): Promise<CallError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CallError);
  return err as CallError;
}

function throwsCallError(action: () => unknown): CallError {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(CallError);
    return err as CallError;
  }
  throw new Error("expected a CallError");
}

describe("call request", () => {
  it("carries protobuf bytes unchanged with deadline, trace and caller headers", () => {
    const wire = encodeCallRequest(requestBytes, {
      deadlineMs: 1_700_000_000_123,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      caller: "navidrome",
    });
    expect(wire.data).toBe(requestBytes);
    expect(wire.headers).toEqual({
      [CallHeader.Deadline]: "1700000000123",
      [CallHeader.Traceparent]: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      [CallHeader.Caller]: "navidrome",
    });
    const decoded = decodeCallRequest(wire, api.ArtistMBIDRequestSchema);
    expect(decoded).toEqual({
      request: requestBytes,
      contentType: CallContentType.Protobuf,
      deadlineMs: 1_700_000_000_123,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      caller: "navidrome",
    });
  });

  it("turns a JSON request into the same protobuf bytes", () => {
    const wire = encodeCallRequest(bytes('{"id":"ar-1","name":"Portishead"}'), { contentType: CallContentType.Json });
    expect(wire.headers[CallHeader.ContentType]).toBe("application/json");
    const decoded = decodeCallRequest(wire, api.ArtistMBIDRequestSchema);
    expect(decoded.contentType).toBe(CallContentType.Json);
    expect(fromBinary(api.ArtistMBIDRequestSchema, decoded.request)).toMatchObject({ id: "ar-1", name: "Portishead" });
  });

  it("accepts a content type with parameters and an empty JSON body", () => {
    const decoded = decodeCallRequest(
      { data: new Uint8Array(0), headers: { [CallHeader.ContentType]: "Application/JSON; charset=utf-8" } },
      api.ArtistMBIDRequestSchema,
    );
    expect(decoded.request).toEqual(new Uint8Array(0));
  });

  it.each([
    [{ [CallHeader.ContentType]: "application/json" }, "{not json", /not a valid JSON navidrome.api.v1.ArtistMBIDRequest/],
    [{ [CallHeader.ContentType]: "application/json" }, '{"unknownField":1}', /unknownField/],
    [{ [CallHeader.ContentType]: "text/plain" }, "x", /unsupported Content-Type "text\/plain"/],
    [{ [CallHeader.Deadline]: "tomorrow" }, "", /Tonearm-Deadline must be epoch milliseconds/],
  ])("answers bad_request for headers %j and body %j", (headers, body, message) => {
    const err = throwsCallError(() => decodeCallRequest({ data: bytes(body), headers }, api.ArtistMBIDRequestSchema));
    expect(err.code).toBe("bad_request");
    expect(err.message).toMatch(message);
  });
});

describe("call reply", () => {
  it("passes protobuf responses through without headers", () => {
    const wire = encodeCallReply(responseBytes, CallContentType.Protobuf, api.ArtistMBIDResponseSchema);
    expect(wire).toEqual({ data: responseBytes, headers: {} });
    expect(decodeCallReply(wire)).toBe(responseBytes);
  });

  it("answers JSON requests in JSON", () => {
    const wire = encodeCallReply(responseBytes, CallContentType.Json, api.ArtistMBIDResponseSchema);
    expect(wire.headers[CallHeader.ContentType]).toBe("application/json");
    expect(JSON.parse(text(decodeCallReply(wire)))).toEqual({ mbid: "8f6bd1e4" });
  });

  it("reports a plugin answer that is not protobuf as plugin_error when JSON is wanted", () => {
    const err = throwsCallError(() =>
      encodeCallReply(Uint8Array.of(0xff, 0xff, 0xff), CallContentType.Json, api.ArtistMBIDResponseSchema),
    );
    expect(err.code).toBe("plugin_error");
    expect(err.message).toContain("navidrome.api.v1.ArtistMBIDResponse");
  });

  it("carries errors as code and one-line message, and rebuilds the CallError", () => {
    const wire = encodeCallError(new CallError("not_found", "plugin:not_found\nsecond line"));
    expect(wire.data.length).toBe(0);
    expect(wire.headers).toEqual({
      [CallHeader.ErrorCode]: "not_found",
      [CallHeader.ErrorMessage]: "plugin:not_found second line",
    });
    const err = throwsCallError(() => decodeCallReply(wire));
    expect([err.code, err.message]).toEqual(["not_found", "plugin:not_found second line"]);
  });

  it("maps an error code it does not know to plugin_error", () => {
    const err = throwsCallError(() =>
      decodeCallReply({ data: new Uint8Array(0), headers: { [CallHeader.ErrorCode]: "quota", [CallHeader.ErrorMessage]: "slow down" } }),
    );
    expect(err.code).toBe("plugin_error");
    expect(err.message).toBe('slow down (unknown error code "quota")');
  });
});

describe("callPlugin", () => {
  const namespace = "calls";
  let bus: Bus;
  let seen: BusMessage[];

  /** Answers calls the way a worker does: decode, run (here: a fixed answer or error), encode. */
  function standInWorker(answer: (plugin: string) => Uint8Array | CallError): void {
    bus.subscribe(subjects(namespace).allCalls, { queue: "workers" }, (message) => {
      seen.push(message);
      const target = subjects(namespace).parseCall(message.subject);
      const method = target && findMethod(target.capability, target.method);
      if (!target || !method) throw new Error(`unexpected call subject ${message.subject}`);
      try {
        const call = decodeCallRequest(message, method.input);
        const result = answer(target.plugin);
        if (result instanceof CallError) throw result;
        const reply = encodeCallReply(result, call.contentType, method.output);
        bus.respond(message, reply.data, { headers: reply.headers });
      } catch (err) {
        const reply = encodeCallError(err instanceof CallError ? err : new CallError("plugin_error", String(err)));
        bus.respond(message, reply.data, { headers: reply.headers });
      }
    });
  }

  beforeEach(() => {
    bus = createMemoryBus({ namespace, logger: recordingLogger() });
    seen = [];
  });
  afterEach(async () => {
    await bus.close();
  });

  it("sends protobuf bytes with a deadline, trace and caller, and returns the response bytes", async () => {
    standInWorker(() => responseBytes);
    const before = Date.now();
    const answer = await callPlugin(bus, namespace, {
      plugin: "my.plugin",
      capability: "MetadataAgent",
      method: "GetArtistMBID",
      request: requestBytes,
      timeoutMs: 2_000,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      caller: "test",
    });
    expect(fromBinary(api.ArtistMBIDResponseSchema, answer).mbid).toBe("8f6bd1e4");
    const [message] = seen;
    expect(message?.subject).toBe("tonearm.calls.call.my=2Eplugin.MetadataAgent.GetArtistMBID");
    expect(message?.data).toEqual(requestBytes);
    const deadline = Number(message?.headers[CallHeader.Deadline]);
    expect(deadline).toBeGreaterThanOrEqual(before + 2_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 2_000);
    expect(message?.headers[CallHeader.Traceparent]).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(message?.headers[CallHeader.Caller]).toBe("test");
    expect(message?.headers[CallHeader.ContentType]).toBeUndefined();
  });

  it("speaks the protobuf JSON mapping for callers without generated code", async () => {
    standInWorker(() => responseBytes);
    const answer = await callPlugin(bus, namespace, {
      plugin: "p",
      capability: "MetadataAgent",
      method: "GetArtistMBID",
      json: { id: "ar-1", name: "Portishead" },
    });
    expect(answer).toEqual({ mbid: "8f6bd1e4" });
  });

  it("raises the worker's error code", async () => {
    standInWorker((plugin) => new CallError("not_implemented", `plugin ${plugin} does not implement it`));
    const err = await callError(
      callPlugin(bus, namespace, { plugin: "p", capability: "MetadataAgent", method: "GetArtistMBID", request: requestBytes }),
    );
    expect([err.code, err.message]).toEqual(["not_implemented", "plugin p does not implement it"]);
  });

  it("answers unavailable when no worker listens", async () => {
    const err = await callError(
      callPlugin(bus, namespace, { plugin: "p", capability: "MetadataAgent", method: "GetArtistMBID", request: requestBytes }),
    );
    expect(err.code).toBe("unavailable");
    expect(err.message).toContain("p MetadataAgent.GetArtistMBID");
  });

  it("answers timeout when the worker stays silent past the deadline", async () => {
    bus.subscribe(subjects(namespace).allCalls, { queue: "workers" }, () => undefined);
    const err = await callError(
      callPlugin(bus, namespace, {
        plugin: "p",
        capability: "MetadataAgent",
        method: "GetArtistMBID",
        request: requestBytes,
        timeoutMs: 50,
      }),
    );
    expect(err.code).toBe("timeout");
    expect(err.message).toContain("within 50 ms");
  });
});
