// The Go fixture has the shape of a real Navidrome Go plugin and answers like fake_artist_agent
// (ABI.md §4.1). It is driven here through a test-only WASI stub, not the host.
import { existsSync, readFileSync } from "node:fs";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { PLUGIN_NOT_FOUND, PLUGIN_NOT_IMPLEMENTED, capability, unpackResult, type CapabilityMethod } from "@tonearm/abi";
import { fixturePaths } from "@tonearm/test-harness";
import { beforeAll, describe, expect, it } from "vitest";
import { wasiStub, type WasiStub } from "./wasi-stub.js";
import { readShape, signature } from "./wasm-shape.js";

const NAME = "fake_artist_agent_go";
const DIR = fixturePaths.plugin("go", NAME);
const BUILT = existsSync(`${DIR}/plugin.wasm`);
const SKIPPED = BUILT ? "" : " (skipped: no Go >= 1.24 toolchain was found to build it; see ../shared/tools/get-go.sh)";
const METADATA = capability("MetadataAgent");

interface GoExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  metadata_agent_api_version(): bigint;
  [name: string]: unknown;
}

type Outcome = { ok: Record<string, unknown> } | { error: string };

function findMethod(name: string): CapabilityMethod {
  const m = METADATA.methods.find((x) => x.method === name);
  if (!m) throw new Error(`no MetadataAgent method ${name}`);
  return m;
}

/** One call exactly as the go-plugin host makes it (ABI.md §1.4). */
function call(exports: GoExports, m: CapabilityMethod, init: MessageInitShape<DescMessage>): Outcome {
  const request = toBinary(m.input, create(m.input, init));
  let ptr = 0;
  if (request.length > 0) {
    ptr = exports.malloc(request.length);
    new Uint8Array(exports.memory.buffer, ptr, request.length).set(request);
  }
  const fn = exports[m.exportName] as (ptr: number, len: number) => bigint;
  const r = unpackResult(fn(ptr, request.length));
  if (ptr !== 0) exports.free(ptr);
  // Copy out before free: the module's memory may be reused by the next call.
  const payload = new Uint8Array(exports.memory.buffer, r.ptr, r.len).slice();
  if (r.ptr !== 0) exports.free(r.ptr);
  if (r.isError) return { error: new TextDecoder().decode(payload) };
  return { ok: fromBinary(m.output, payload) as unknown as Record<string, unknown> };
}

describe.skipIf(!BUILT)(`Go fixture ${NAME}${SKIPPED}`, () => {
  const bytes = BUILT ? readFileSync(`${DIR}/plugin.wasm`) : new Uint8Array();

  it("ships the fake_artist_agent manifest under its own name", () => {
    expect(JSON.parse(readFileSync(`${DIR}/manifest.json`, "utf8"))).toEqual({
      name: NAME,
      author: "Navidrome Test",
      version: "1.0.0",
      description: expect.any(String) as unknown,
      website: "https://test.navidrome.org/fake-artist-agent",
      capabilities: ["MetadataAgent"],
      permissions: {},
    });
  });

  it("exports what a go-plugin MetadataAgent exports, with its signatures", () => {
    const exports = readShape(bytes).exports;
    const sig = (name: string): string => signature(exports.get(name)?.type);
    expect(exports.get("memory")?.kind).toBe("memory");
    expect(sig("_initialize")).toBe("() -> ()");
    expect(sig("malloc")).toBe("(i32) -> (i32)");
    expect(sig("free")).toBe("(i32) -> ()");
    expect(sig(METADATA.versionExport)).toBe("() -> (i64)");
    for (const m of METADATA.methods) expect(sig(m.exportName), m.exportName).toBe("(i32, i32) -> (i64)");
    expect(exports.has("_start")).toBe(false);
  });

  it("imports only WASI preview1, and no env host functions", () => {
    const imports = readShape(bytes).imports;
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => i.module !== "wasi_snapshot_preview1")).toEqual([]);
    expect(imports.map((i) => i.name)).toEqual(expect.arrayContaining(["proc_exit", "fd_write", "clock_time_get", "random_get"]));
  });

  it("declares a memory without a maximum", () => {
    expect(readShape(bytes).memory?.max).toBeUndefined();
  });

  describe("running under a WASI stub", () => {
    let exports: GoExports;
    let wasi: WasiStub;

    beforeAll(() => {
      const module = new WebAssembly.Module(bytes);
      wasi = wasiStub();
      const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.imports(module) });
      exports = instance.exports as unknown as GoExports;
      wasi.bind(exports.memory);
      exports._initialize();
    });

    it("initialises quietly and reports API version 1", () => {
      expect(wasi.output.stderr).toBe("");
      expect(exports.metadata_agent_api_version()).toBe(1n);
    });

    it("answers GetArtistMBID for a named artist", () => {
      expect(call(exports, findMethod("GetArtistMBID"), { name: "The Beatles" })).toEqual({
        ok: expect.objectContaining({ mbid: "1234567890" }) as unknown,
      });
    });

    it("answers GetArtistMBID without a name with the not-found sentinel", () => {
      expect(call(exports, findMethod("GetArtistMBID"), { name: "" })).toEqual({ error: PLUGIN_NOT_FOUND });
    });

    it.each([
      ["GetArtistURL", { url: "https://example.com" }],
      ["GetArtistBiography", { biography: "This is a test biography" }],
      [
        "GetSimilarArtists",
        { artists: [{ name: "Similar Artist 1", mbid: "mbid1" }, { name: "Similar Artist 2", mbid: "mbid2" }] },
      ],
      [
        "GetArtistImages",
        { images: [{ url: "https://example.com/image1.jpg", size: 100 }, { url: "https://example.com/image2.jpg", size: 200 }] },
      ],
    ])("answers %s like fake_artist_agent, and not_found without a name", (method, expected) => {
      const m = findMethod(method);
      const outcome = call(exports, m, { id: "ar-1", name: "The Beatles", mbid: "b10bbbfc", limit: 2 });
      expect(outcome).toMatchObject({ ok: expected });
      expect(call(exports, m, { id: "ar-1" })).toEqual({ error: PLUGIN_NOT_FOUND });
    });

    it("answers GetArtistTopSongs by artistName", () => {
      const m = findMethod("GetArtistTopSongs");
      expect(call(exports, m, { artistName: "The Beatles", count: 2 })).toMatchObject({
        ok: { songs: [{ name: "Song 1", mbid: "mbid1" }, { name: "Song 2", mbid: "mbid2" }] },
      });
      expect(call(exports, m, { count: 2 })).toEqual({ error: PLUGIN_NOT_FOUND });
    });

    it.each(["GetAlbumInfo", "GetAlbumImages"])("answers %s with the not-implemented sentinel", (method) => {
      expect(call(exports, findMethod(method), { name: "Abbey Road", artist: "The Beatles" })).toEqual({
        error: PLUGIN_NOT_IMPLEMENTED,
      });
    });

    it("treats an undecodable request as an empty successful response, as generated plugins do", () => {
      const ptr = exports.malloc(3);
      new Uint8Array(exports.memory.buffer, ptr, 3).set([0x12, 0x7f, 0x41]); // field 2, length 127, 1 byte
      const fn = exports[findMethod("GetArtistMBID").exportName] as (ptr: number, len: number) => bigint;
      expect(fn(ptr, 3)).toBe(0n);
      exports.free(ptr);
    });
  });
});
