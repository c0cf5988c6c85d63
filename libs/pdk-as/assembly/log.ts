// Plugin logging: one line per call on stderr (WASI fd 2), which hosts forward to their log with
// the plugin's ID. stdout is discarded by Navidrome and Tonearm alike.

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: usize, written: usize): u16;

const STDERR: u32 = 2;

/** Writes `message` and a newline to stderr in one write; failures to write are ignored. */
export function log(message: string): void {
  const len = String.UTF8.byteLength(message);
  // iovec {ptr, len}, the written count, then the text and its newline.
  const buf = heap.alloc(16 + <usize>len + 1);
  const text = buf + 16;
  String.UTF8.encodeUnsafe(changetype<usize>(message), message.length, text);
  store<u8>(text + <usize>len, 0x0a);
  store<u32>(buf, <u32>text);
  store<u32>(buf, <u32>len + 1, 4);
  fd_write(STDERR, buf, 1, buf + 8);
  heap.free(buf);
}
