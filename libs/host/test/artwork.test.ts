import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { hostImportsFor } from "@tonearm/abi";
import { artworkHost } from "@tonearm/proto";
import { SignJWT, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { artworkFunctions, type ArtworkSettings } from "../src/thread/artwork.js";

const SECRET = "navidrome-jwt-secret";
const key = new TextEncoder().encode(SECRET);
const settings = (overrides: Partial<ArtworkSettings> = {}): ArtworkSettings => ({ secret: SECRET, shareUrl: "", baseUrl: "", ...overrides });
const thread = { pluginId: "discord-rich-presence", config: {} };

/** Calls an in-thread `env` function the way the runtime does: encoded request in, encoded response out. */
function imageUrl(name: "get_artist_url" | "get_album_url" | "get_track_url", id: string, size = 0, s = settings()): string {
  const request = toBinary(artworkHost.GetArtworkUrlRequestSchema, create(artworkHost.GetArtworkUrlRequestSchema, { id, size }));
  return fromBinary(artworkHost.GetArtworkUrlResponseSchema, artworkFunctions(s)[name](thread, request)).url;
}

/** Splits `<base>/<token>[?query]` and verifies the token with the shared secret. */
async function parse(url: string): Promise<{ base: string; query: string; token: string; claims: Record<string, unknown> }> {
  const match = /^(.*)\/([^/?]+)(\?.*)?$/.exec(url);
  if (!match?.[1] || !match[2]) throw new Error(`not an image URL: ${url}`);
  const { payload } = await jwtVerify(match[2], key, { algorithms: ["HS256"], issuer: "ND" });
  return { base: match[1], token: match[2], query: match[3] ?? "", claims: payload };
}

describe("artwork env functions", () => {
  it("answer exactly the artwork permission's imports", () => {
    expect(Object.keys(artworkFunctions(settings())).sort()).toStrictEqual(hostImportsFor(["artwork"]).map((i) => i.name).sort());
  });

  it.each([
    ["get_artist_url", "ar-123_0"],
    ["get_album_url", "al-123_0"],
    ["get_track_url", "mf-123_0"],
  ] as const)("%s signs an HS256 token for %s with issuer ND", async (name, artworkId) => {
    const { claims, token } = await parse(imageUrl(name, "123"));
    expect(claims).toStrictEqual({ id: artworkId, iss: "ND" });
    expect(decodeProtectedHeader(token)).toStrictEqual({ alg: "HS256", typ: "JWT" });
  });

  it("produce the same token a standard JWT library signs for those claims", async () => {
    const expected = await new SignJWT({ id: "mf-abc_0" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuer("ND").sign(key);
    expect((await parse(imageUrl("get_track_url", "abc"))).token).toBe(expected);
  });

  it("make tokens that another secret does not verify", async () => {
    const token = (await parse(imageUrl("get_album_url", "1"))).token;
    await expect(jwtVerify(token, new TextEncoder().encode("other"))).rejects.toThrow("signature verification failed");
  });

  it("use ShareURL's scheme and host (with port, without path or user) and add size only when positive", async () => {
    const share = settings({ shareUrl: "HTTPS://user@music.example.com:8443/navidrome/?x=1", baseUrl: "https://ignored.example.com/base" });
    const withSize = await parse(imageUrl("get_track_url", "t1", 300, share));
    expect(withSize.base).toBe("https://music.example.com:8443/share/img");
    expect(withSize.query).toBe("?size=300");
    expect((await parse(imageUrl("get_album_url", "a1", 150, share))).query).toBe("?size=150");
    expect((await parse(imageUrl("get_album_url", "a1", 0, share))).query).toBe("");
    expect((await parse(imageUrl("get_album_url", "a1", -5, share))).query).toBe("");
  });

  it.each([
    ["", "http://localhost/share/img"],
    ["/music/", "http://localhost/music/share/img"],
    ["https://nd.example.com", "https://nd.example.com/share/img"],
    ["https://nd.example.com/music", "https://nd.example.com/music/share/img"],
  ])("without ShareURL, base URL %j gives %s", async (baseUrl, expected) => {
    expect((await parse(imageUrl("get_artist_url", "x", 0, settings({ baseUrl })))).base).toBe(expected);
  });

  it("sign an empty id as an empty artwork id, like Navidrome", async () => {
    expect((await parse(imageUrl("get_artist_url", ""))).claims).toStrictEqual({ id: "", iss: "ND" });
  });

  it("escape <, > and & in claims as Go's encoding/json does", async () => {
    const { token, claims } = await parse(imageUrl("get_album_url", "<a&b>"));
    expect(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).toBe('{"id":"al-\\u003ca\\u0026b\\u003e_0","iss":"ND"}');
    expect(claims.id).toBe("al-<a&b>_0");
  });

  it("refuse to sign without a secret", () => {
    expect(() => imageUrl("get_track_url", "1", 0, settings({ secret: "" }))).toThrow("artwork service has no signing secret configured");
  });

  it("reject a ShareURL or base URL that is not absolute", () => {
    expect(() => artworkFunctions(settings({ shareUrl: "music.example.com" }))).toThrow(
      'artwork shareUrl "music.example.com" is not an absolute URL (scheme://host)',
    );
    expect(() => artworkFunctions(settings({ baseUrl: "nd.local:4533" }))).toThrow('artwork baseUrl "nd.local:4533" is not an absolute URL');
  });
});
