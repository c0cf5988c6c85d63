// The built hostile fixtures have exactly their one defect and are otherwise valid MetadataAgent
// plugins, so a host reaches the defect. Nothing here runs a defect that could hang or exhaust
// the machine (the infinite loop, an unbounded memory bomb).
import { readFileSync, readdirSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { PLUGIN_NOT_IMPLEMENTED, capability, unpackResult } from "@tonearm/abi";
import { api } from "@tonearm/proto";
import { fixturePaths } from "@tonearm/test-harness";
import { describe, expect, it } from "vitest";
import { ProcExit } from "./wasi-stub.js";
import { readShape, signature, withMemoryMaximum, type ModuleShape } from "./wasm-shape.js";

const METADATA = capability("MetadataAgent");
const SOURCES = new URL("../fixtures/hostile/", import.meta.url);
const FIXTURES = readdirSync(SOURCES)
  .filter((f) => f.endsWith(".wat") && !f.startsWith("_"))
  .map((f) => f.slice(0, -".wat".length))
  .sort();

const PAGE = 65536;
const MIB = 1024 * 1024;

type Method = (ptr: number, len: number) => bigint;
interface Exports {
  memory: WebAssembly.Memory;
  _initialize: () => void;
  metadata_agent_api_version: () => bigint;
  [method: string]: unknown;
}

function wasm(name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(`${fixturePaths.plugin("hostile", name)}/plugin.wasm`));
}

function shape(name: string): ModuleShape {
  return readShape(wasm(name));
}

/** Instantiates a fixture whose memory is small enough to instantiate freely. */
function instantiate(bytes: Uint8Array<ArrayBuffer>): { exports: Exports; exits: number[] } {
  const exits: number[] = [];
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    // What a permissionless plugin is offered: an empty `env` module.
    env: {},
    wasi_snapshot_preview1: {
      proc_exit: (code: number) => {
        exits.push(code);
        throw new ProcExit(code);
      },
    },
  });
  return { exports: instance.exports as unknown as Exports, exits };
}

function method(exports: Exports, exportName: string): Method {
  const fn = exports[exportName];
  if (typeof fn !== "function") throw new Error(`${exportName} is not an exported function`);
  return fn as Method;
}

/** The standard exports a host checks at load (ABI.md §1.3), with their signatures. */
function expectedExports(): Map<string, string> {
  return new Map([
    ["malloc", "(i32) -> (i32)"],
    ["free", "(i32) -> ()"],
    ["_initialize", "() -> ()"],
    [METADATA.versionExport, "() -> (i64)"],
    ...METADATA.methods.map((m) => [m.exportName, "(i32, i32) -> (i64)"] as const),
  ]);
}

function exportSignatures(s: ModuleShape): Map<string, string> {
  return new Map([...s.exports].filter(([, e]) => e.kind === "function").map(([n, e]) => [n, signature(e.type)]));
}

describe("hostile fixtures", () => {
  it("builds a plugin folder for every fixture source", () => {
    const built = readdirSync(fixturePaths.folder("hostile"), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(built).toEqual(FIXTURES);
    expect(FIXTURES).toHaveLength(11);
  });

  describe.each(FIXTURES)("%s", (name) => {
    it("has a valid MetadataAgent manifest granting no permissions", () => {
      const manifest: unknown = JSON.parse(readFileSync(`${fixturePaths.plugin("hostile", name)}/manifest.json`, "utf8"));
      expect(manifest).toMatchObject({
        name,
        author: "Tonearm Tests",
        version: "1.0.0",
        description: expect.stringMatching(/\S/) as unknown,
        website: expect.stringMatching(/^https:\/\//) as unknown,
        capabilities: ["MetadataAgent"],
        permissions: {},
      });
    });

    it("compiles, exports a memory and imports only what its defect needs", async () => {
      await expect(WebAssembly.compile(wasm(name))).resolves.toBeInstanceOf(WebAssembly.Module);
      const s = shape(name);
      expect(s.exports.get("memory")?.kind).toBe("memory");
      const allowed = name === "unpermitted_import" ? ["env.get"] : name === "exit_in_call" ? ["wasi_snapshot_preview1.proc_exit"] : [];
      expect(s.imports.map((i) => `${i.module}.${i.name}`)).toEqual(allowed);
    });
  });

  it("every fixture but no_malloc has the full standard export set with go-plugin signatures", () => {
    for (const name of FIXTURES.filter((n) => n !== "no_malloc")) {
      const actual = exportSignatures(shape(name));
      for (const [exportName, sig] of expectedExports()) {
        expect(actual.get(exportName), `${name}: ${exportName}`).toBe(sig);
      }
    }
  });

  it("no_malloc lacks only malloc", () => {
    const actual = exportSignatures(shape("no_malloc"));
    expect(actual.has("malloc")).toBe(false);
    for (const [exportName, sig] of expectedExports()) {
      if (exportName !== "malloc") expect(actual.get(exportName), exportName).toBe(sig);
    }
  });

  it("the fixtures a host can load report API version 1; wrong_api_version reports 2", () => {
    for (const name of FIXTURES.filter((n) => !["memory_bomb_initial", "unpermitted_import", "bad_init"].includes(n))) {
      const { exports } = instantiate(wasm(name));
      exports._initialize();
      expect(exports.metadata_agent_api_version(), name).toBe(name === "wrong_api_version" ? 2n : 1n);
    }
  });

  it("unpermitted_import imports env.get with the host-function signature and has no permission for it", () => {
    const get = shape("unpermitted_import").imports.find((i) => i.module === "env");
    expect(get).toMatchObject({ name: "get", kind: "function" });
    expect(signature(get?.type)).toBe("(i32, i32) -> (i64)");
    expect(() => instantiate(wasm("unpermitted_import"))).toThrow(WebAssembly.LinkError);
  });

  it("memory_bomb_initial declares a minimum of 40000 pages and no maximum", () => {
    expect(shape("memory_bomb_initial").memory).toEqual({ min: 40000, max: undefined });
  });

  it("fixtures other than memory_bomb_initial start with one page and no maximum", () => {
    for (const name of FIXTURES.filter((n) => n !== "memory_bomb_initial")) {
      expect(shape(name).memory, name).toEqual({ min: 1, max: undefined });
    }
  });

  it("infinite_loop still answers GetArtistURL", () => {
    const { exports } = instantiate(wasm("infinite_loop"));
    const r = unpackResult(method(exports, "metadata_agent_get_artist_url")(0, 0));
    expect(r.isError).toBe(false);
    const bytes = new Uint8Array(exports.memory.buffer, r.ptr, r.len);
    expect(fromBinary(api.ArtistURLResponseSchema, bytes).url).toBe("https://example.com");
  });

  it("the standard methods answer not_implemented as an error string", () => {
    const { exports } = instantiate(wasm("trap"));
    const r = unpackResult(method(exports, "metadata_agent_get_album_info")(0, 0));
    expect(r.isError).toBe(true);
    expect(new TextDecoder().decode(new Uint8Array(exports.memory.buffer, r.ptr, r.len))).toBe(PLUGIN_NOT_IMPLEMENTED);
  });

  it("malloc hands out writable buffers and grows memory for large ones", () => {
    const { exports } = instantiate(wasm("trap"));
    const malloc = exports.malloc as (size: number) => number;
    expect(malloc(0)).toBe(0);
    const small = malloc(10);
    const large = malloc(3 * PAGE);
    expect(large).toBeGreaterThanOrEqual(small + 10);
    expect(exports.memory.buffer.byteLength).toBeGreaterThanOrEqual(large + 3 * PAGE);
  });

  it("trap traps in GetArtistMBID", () => {
    const { exports } = instantiate(wasm("trap"));
    expect(() => method(exports, "metadata_agent_get_artist_mbid")(0, 0)).toThrow(/unreachable/);
  });

  it("bad_init traps in _initialize", () => {
    const { exports } = instantiate(wasm("bad_init"));
    expect(() => exports._initialize()).toThrow(/unreachable/);
  });

  it("exit_in_call calls proc_exit(3) from GetArtistMBID", () => {
    const { exports, exits } = instantiate(wasm("exit_in_call"));
    expect(() => method(exports, "metadata_agent_get_artist_mbid")(0, 0)).toThrow(ProcExit);
    expect(exits).toEqual([3]);
  });

  it("bad_pointer returns a 16-byte payload at 0xFFFF0000, beyond its memory", () => {
    const { exports } = instantiate(wasm("bad_pointer"));
    const r = unpackResult(method(exports, "metadata_agent_get_artist_mbid")(0, 0));
    expect(r).toEqual({ ptr: 0xffff0000, len: 16, isError: false });
    expect(r.ptr + r.len).toBeGreaterThan(exports.memory.buffer.byteLength);
  });

  it("oversized_result returns an in-range 48 MiB success payload", () => {
    const { exports } = instantiate(wasm("oversized_result"));
    const r = unpackResult(method(exports, "metadata_agent_get_artist_mbid")(0, 0));
    expect(r.isError).toBe(false);
    expect(r.len).toBe(48 * MIB);
    expect(r.ptr).toBeGreaterThan(0);
    expect(r.ptr + r.len).toBeLessThanOrEqual(exports.memory.buffer.byteLength);
  });

  it("memory_bomb grows memory up to a host-imposed maximum, then traps", () => {
    const ceiling = 1000; // pages (62.5 MiB), written into the module as a host does
    const { exports } = instantiate(withMemoryMaximum(wasm("memory_bomb"), ceiling));
    expect(() => method(exports, "metadata_agent_get_artist_mbid")(0, 0)).toThrow(/unreachable/);
    // It grows in steps, so it stops within one step of the ceiling.
    const pages = exports.memory.buffer.byteLength / PAGE;
    expect(pages).toBeLessThanOrEqual(ceiling);
    expect(pages).toBeGreaterThan(ceiling / 2);
  });
});
