import { createServer, type Server } from "node:http";
import type { AddressInfo, LookupFunction } from "node:net";
import type { LookupAddress } from "node:dns";
import fc from "fast-check";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BlockedAddressError,
  blockedAddressKind,
  createNetworkAgent,
  findBlockedAddressError,
  networkLookup,
  staticLookup,
} from "../src/main/network-guard.js";

describe("blockedAddressKind", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.3.4", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.100", "private"],
    ["169.254.169.254", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "unspecified"],
    ["fc00::1", "unique-local"],
    ["fd00::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:192.168.0.1", "private"],
    ["::ffff:169.254.1.1", "link-local"],
  ])("%s is %s", (address, kind) => {
    expect(blockedAddressKind(address)).toBe(kind);
  });

  it.each([
    "172.15.255.255",
    "172.32.0.1",
    "8.8.8.8",
    "1.1.1.1",
    "208.67.222.222",
    "100.64.0.1", // CGNAT: Navidrome does not block it either
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "fec0::1",
    "::ffff:8.8.8.8",
    "example.com",
    "",
  ])("%s is not blocked", (address) => {
    expect(blockedAddressKind(address)).toBeUndefined();
  });

  it("judges an IPv4-mapped IPv6 address like the IPv4 address it carries", () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(blockedAddressKind(`::ffff:${v4}`)).toBe(blockedAddressKind(v4));
      }),
    );
  });

  it("blocks every address of the private IPv4 ranges", () => {
    const inRange = (a: number, bMin: number, bMax: number): fc.Arbitrary<string> =>
      fc
        .tuple(fc.integer({ min: bMin, max: bMax }), fc.nat(255), fc.nat(255))
        .map(([b, c, d]) => `${a}.${b}.${c}.${d}`);
    fc.assert(
      fc.property(fc.oneof(inRange(10, 0, 255), inRange(172, 16, 31), inRange(192, 168, 168)), (address) => {
        expect(blockedAddressKind(address)).toBe("private");
      }),
    );
  });
});

function resolve(lookup: LookupFunction, hostname: string, all: boolean): Promise<string | LookupAddress[]> {
  return new Promise((res, rej) => {
    lookup(hostname, { all }, (err, address) => (err ? rej(err) : res(address)));
  });
}

describe("networkLookup", () => {
  const base = staticLookup({
    "public.test": ["127.0.0.1"],
    "mixed.test": ["10.1.2.3", "93.184.216.34", "fd00::5"],
    "outside.test": ["93.184.216.34", "2606:4700:4700::1111"],
  });

  it("refuses a name that resolves only to local addresses, naming what it resolved to", async () => {
    const error = await resolve(networkLookup({ allowLocalNetwork: false, lookup: base }), "public.test", false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect((error as BlockedAddressError).message).toBe("requests to localhost are not allowed (public.test resolves to 127.0.0.1)");
    expect((error as BlockedAddressError).reason).toBe("requests to localhost are not allowed");
  });

  it("drops the local addresses of a name and keeps its public ones", async () => {
    const lookup = networkLookup({ allowLocalNetwork: false, lookup: base });
    expect(await resolve(lookup, "mixed.test", true)).toEqual([{ address: "93.184.216.34", family: 4 }]);
    expect(await resolve(lookup, "mixed.test", false)).toBe("93.184.216.34");
    expect(await resolve(lookup, "outside.test", true)).toHaveLength(2);
  });

  it("passes every address through with allowLocalNetwork", async () => {
    const lookup = networkLookup({ allowLocalNetwork: true, lookup: base });
    expect(await resolve(lookup, "public.test", false)).toBe("127.0.0.1");
  });

  it("keeps resolver failures as they are", async () => {
    const error = await resolve(networkLookup({ allowLocalNetwork: false, lookup: base }), "nowhere.test", false).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ENOTFOUND" });
  });
});

describe("createNetworkAgent (real connections)", () => {
  let server: Server;
  let port = 0;
  let requestsSeen = 0;
  const lookup = staticLookup({ "public.test": ["127.0.0.1"] });

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requestsSeen++;
      res.end("reached");
    });
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((res) => server.close(() => res())));

  it("blocks a public-looking name by the loopback address it resolves to, before any byte is sent", async () => {
    const before = requestsSeen;
    const error = await request(`http://public.test:${port}/`, {
      dispatcher: createNetworkAgent({ allowLocalNetwork: false, lookup }),
    }).catch((e: unknown) => e);
    expect(findBlockedAddressError(error)?.message).toBe("requests to localhost are not allowed (public.test resolves to 127.0.0.1)");
    expect(requestsSeen).toBe(before);
  });

  it("blocks a literal loopback address, which Node dials without a lookup", async () => {
    const error = await request(`http://127.0.0.1:${port}/`, {
      dispatcher: createNetworkAgent({ allowLocalNetwork: false, lookup }),
    }).catch((e: unknown) => e);
    expect(findBlockedAddressError(error)?.kind).toBe("loopback");
  });

  it("connects with allowLocalNetwork", async () => {
    const response = await request(`http://public.test:${port}/`, {
      dispatcher: createNetworkAgent({ allowLocalNetwork: true, lookup }),
    });
    expect(await response.body.text()).toBe("reached");
  });
});
