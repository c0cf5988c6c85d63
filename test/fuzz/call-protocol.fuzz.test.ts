// The plugin-call protocol's codec (@tonearm/bus call-protocol) fed malformed protobuf, JSON that is
// not, headers missing, malformed or oversized: decoding fails only with a `bad_request` CallError
// (replies: only with the CallError they carry), and what is encoded decodes back unchanged.
import { create, fromBinary, toBinary, toJsonString, type DescMessage } from "@bufbuild/protobuf";
import { CAPABILITIES, CallError, CallErrorCode, capability, isCallErrorCode, type CapabilityMethod } from "@tonearm/abi";
import { CallContentType, CallHeader, decodeCallReply, decodeCallRequest, encodeCallError, encodeCallReply, encodeCallRequest, type WireMessage } from "@tonearm/bus";
import { api } from "@tonearm/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { awkwardText } from "./support.js";

const METHODS: CapabilityMethod[] = CAPABILITIES.flatMap((name) => [...capability(name).methods]);
const method = fc.constantFrom(...METHODS);

/** Header values as a hostile caller sends them: short, empty, huge, unicode; never a line break (the bus refuses those). */
const headerValue = fc.oneof(
  awkwardText(8).map((s) => s.replace(/[\r\n]/g, " ")),
  fc.constantFrom("", "0", "-1", "1e3", "17000000000000000", "9".repeat(16), "application/json", "application/protobuf; charset=x", "APPLICATION/JSON", "text/plain"),
  fc.tuple(fc.constantFrom("a", "€", "9"), fc.integer({ min: 1_000, max: 200_000 })).map(([c, n]) => c.repeat(n)),
);
const headers = fc.record(
  {
    [CallHeader.Deadline]: headerValue,
    [CallHeader.ContentType]: headerValue,
    [CallHeader.Traceparent]: headerValue,
    [CallHeader.Caller]: headerValue,
    [CallHeader.ErrorCode]: fc.oneof(headerValue, fc.constantFrom(...Object.values(CallErrorCode))),
    [CallHeader.ErrorMessage]: headerValue,
  },
  { requiredKeys: [] },
);
/** Bodies: random bytes, bytes of a real request with a few flipped, text that looks like JSON. */
const body = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.array(fc.nat(), { maxLength: 4 })).map(([bytes, flips]) => {
    const copy = bytes.slice();
    for (const f of flips) copy[f % copy.length] = (copy[f % copy.length] ?? 0) ^ 0xff;
    return copy;
  }),
  fc.oneof(fc.json({ maxDepth: 3 }), awkwardText(), fc.constant("[".repeat(20_000))).map((text) => new TextEncoder().encode(text)),
);

function expectCallError(action: () => unknown, codes: readonly string[]): void {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(CallError);
    expect(codes).toContain((err as CallError).code);
  }
}

/** A request message of `input` with random text in its string fields. */
function randomRequest(input: DescMessage, words: readonly string[]): Uint8Array {
  const init: Record<string, unknown> = {};
  input.fields.forEach((field, i) => {
    if (field.fieldKind === "scalar" && field.scalar === 9) init[field.localName] = words[i % words.length] ?? "";
  });
  return toBinary(input, create(input, init));
}

describe("call protocol fuzz", () => {
  it("decodeCallRequest returns a request or throws bad_request, whatever the message", () => {
    fc.assert(
      fc.property(method, body, headers, (m, data, h) => {
        let decoded;
        try {
          decoded = decodeCallRequest({ data, headers: h }, m.input);
        } catch (err) {
          expect(err).toBeInstanceOf(CallError);
          expect((err as CallError).code).toBe("bad_request");
          return;
        }
        // Protobuf passes through untouched (the plugin judges it); JSON comes out as valid protobuf.
        if (decoded.contentType === CallContentType.Protobuf) expect(decoded.request).toBe(data);
        else expect(() => fromBinary(m.input, decoded.request)).not.toThrow();
        if (decoded.deadlineMs !== undefined) expect(Number.isNaN(new Date(decoded.deadlineMs).getTime())).toBe(false);
      }),
    );
  });

  it("decodes what it encodes, in both content types", () => {
    fc.assert(
      fc.property(
        method,
        fc.array(awkwardText(6), { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 0, max: 2 ** 50 }), { nil: undefined }),
        fc.option(awkwardText(10), { nil: undefined }),
        fc.boolean(),
        (m, words, deadlineMs, caller, json) => {
          const bytes = randomRequest(m.input, words);
          const payload = json ? new TextEncoder().encode(toJsonString(m.input, fromBinary(m.input, bytes))) : bytes;
          const wire = encodeCallRequest(payload, {
            ...(deadlineMs === undefined ? {} : { deadlineMs }),
            ...(caller === undefined ? {} : { caller }),
            ...(json ? { contentType: CallContentType.Json } : {}),
          });
          const decoded = decodeCallRequest(wire, m.input);
          expect(decoded.request).toEqual(bytes);
          expect(decoded.contentType).toBe(json ? CallContentType.Json : CallContentType.Protobuf);
          expect(decoded.deadlineMs).toBe(deadlineMs);
          expect(decoded.caller).toBe(caller?.replace(/[\r\n]+/g, " "));
        },
      ),
    );
  });

  it("decodeCallReply returns the data or throws the CallError the reply carries", () => {
    fc.assert(
      fc.property(body, headers, (data, h) => {
        const reply: WireMessage = { data, headers: h };
        const code = h[CallHeader.ErrorCode];
        if (code === undefined) {
          expect(decodeCallReply(reply)).toBe(data);
          return;
        }
        try {
          decodeCallReply(reply);
          expect.unreachable("an error reply decoded as an answer");
        } catch (err) {
          expect(err).toBeInstanceOf(CallError);
          expect((err as CallError).code).toBe(isCallErrorCode(code) ? code : "plugin_error");
        }
      }),
    );
  });

  it("carries every error code and message across, on one line and within the size cap", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(CallErrorCode)), fc.tuple(awkwardText(6), fc.integer({ min: 1, max: 400 })).map(([s, n]) => s.repeat(n)), (code, message) => {
        const wire = encodeCallError(new CallError(code, message));
        let thrown: unknown;
        try {
          decodeCallReply(wire);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(CallError);
        expect((thrown as CallError).code).toBe(code);
        const text = (thrown as CallError).message;
        expect(text).not.toMatch(/[\r\n]/);
        expect(text.length).toBeLessThanOrEqual(2048);
        expect(text).toBe(message.replace(/[\r\n]+/g, " ").slice(0, 2048));
      }),
    );
  });

  it("encodeCallReply turns any plugin answer into JSON or a plugin_error", () => {
    fc.assert(
      fc.property(method, body, (m, response) => {
        expectCallError(() => {
          const wire = encodeCallReply(response, CallContentType.Json, m.output);
          expect(() => JSON.parse(new TextDecoder().decode(wire.data)) as unknown).not.toThrow();
        }, ["plugin_error"]);
      }),
    );
  });

  it("an empty JSON body is the empty message, as zero protobuf bytes are", () => {
    const decoded = decodeCallRequest({ data: new Uint8Array(0), headers: { [CallHeader.ContentType]: "application/json" } }, api.ArtistMBIDRequestSchema);
    expect(decoded.request).toEqual(new Uint8Array(0));
  });
});
