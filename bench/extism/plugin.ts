// GetArtistMBID for Extism, answering as the fake_artist_agent fixture does: the protobuf
// ArtistMBIDRequest in, the ArtistMBIDResponse {mbid: "1234567890"} out, an error when the artist
// name is empty. Built by bench/extism/build.mjs with @extism/as-pdk; never committed as a binary.
import { Host } from "@extism/as-pdk";

const MBID = "1234567890";

// The abort handler asc links in (--use abort=…); nothing in this plugin aborts.
function _abort(_message: string | null, _fileName: string | null, _lineNumber: u32, _columnNumber: u32): void {}

/** Length of field 2 (`name`) of an ArtistMBIDRequest, walking its length-delimited fields. */
function nameLength(bytes: Uint8Array): i32 {
  let i = 0;
  let found = 0;
  while (i < bytes.length) {
    const key: i32 = bytes[i++];
    let length: i32 = 0;
    let shift = 0;
    while (i < bytes.length) {
      const b: i32 = bytes[i++];
      length |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    if (key >> 3 == 2) found = length;
    i += length;
  }
  return found;
}

export function get_artist_mbid(): i32 {
  if (nameLength(Host.input()) == 0) {
    Host.outputString("not found");
    return 1;
  }
  const out = new Uint8Array(2 + MBID.length);
  out[0] = 0x0a;
  out[1] = <u8>MBID.length;
  for (let i = 0; i < MBID.length; i++) out[2 + i] = <u8>MBID.charCodeAt(i);
  Host.output(out);
  return 0;
}
