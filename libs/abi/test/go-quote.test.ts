// strconv.Quote as Go 1.24 prints it (the expected texts were printed by Go's fmt.Printf("%q")).
import { describe, expect, it } from "vitest";
import { goQuote, goQuoteBytes } from "../src/index.js";

describe("goQuote", () => {
  it.each([
    ["plain", '"plain"'],
    ['a "b" \\c', '"a \\"b\\" \\\\c"'],
    ["tab\tnl\nbell\x07", '"tab\\tnl\\nbell\\a"'],
    ["\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'],
    ["café ♫ 𝄞", '"café ♫ 𝄞"'],
    ["\u200b\u00a0", '"\\u200b\\u00a0"'],
    ["\u{e0001}", '"\\U000e0001"'],
  ])("quotes %j as %s", (text, quoted) => {
    expect(goQuote(text)).toBe(quoted);
  });

  it("prints a lone surrogate as U+FFFD, as Go sees it after decoding", () => {
    expect(goQuote("a\ud800b")).toBe('"a\ufffdb"');
  });
});

describe("goQuoteBytes", () => {
  const bytes = (hex: string): string => Buffer.from(hex, "hex").toString("latin1");

  it("prints valid UTF-8 as runes and every other byte as \\xNN", () => {
    expect(goQuoteBytes(bytes("636166c3a9"))).toBe('"café"');
    expect(goQuoteBytes(bytes("25ff"))).toBe('"%\\xff"');
    // An overlong encoding, a cut-short sequence and an encoded surrogate are not runes.
    expect(goQuoteBytes(bytes("c0af"))).toBe('"\\xc0\\xaf"');
    expect(goQuoteBytes(bytes("e282"))).toBe('"\\xe2\\x82"');
    expect(goQuoteBytes(bytes("eda080"))).toBe('"\\xed\\xa0\\x80"');
    expect(goQuoteBytes(bytes("0a22"))).toBe('"\\n\\""');
  });
});
