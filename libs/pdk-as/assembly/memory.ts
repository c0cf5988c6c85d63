// Buffers shared with the host (ABI.md §1.4, §1.5). They live on the AssemblyScript heap
// (`heap.alloc`), outside the garbage collector, so the host may hold them across calls and free
// them through the exported `free`.
//
// Each block starts with a 16-byte header holding a tag derived from its address. `free` releases
// only blocks carrying a valid tag and clears it, so a pointer freed twice (the guest frees host
// responses after decoding them and a host may free them again after the call) or a pointer
// `malloc` never returned is ignored, as with Go guests.

// @ts-ignore: decorator
@inline const HEADER: usize = 16;
// @ts-ignore: decorator
@inline const TAG: u32 = 0x6d72_6174;
// @ts-ignore: decorator
@inline const ERROR_BIT: u32 = 0x8000_0000;

/** Allocates `size` bytes for the host; 0 for a size of 0 (or less). */
export function malloc(size: i32): i32 {
  if (size <= 0) return 0;
  const block = heap.alloc(<usize>size + HEADER);
  const ptr = block + HEADER;
  store<u32>(block, TAG ^ <u32>ptr);
  return <i32>ptr;
}

/** Frees a buffer `malloc` returned; any other pointer, or one already freed, is ignored. */
export function free(ptr: i32): void {
  const p = <usize><u32>ptr;
  if (p < HEADER + sizeof<u32>() || p > (<usize>memory.size() << 16)) return;
  const block = p - HEADER;
  if (load<u32>(block) != (TAG ^ <u32>p)) return;
  store<u32>(block, 0);
  heap.free(block);
}

/** True if `len` bytes at `ptr` lie inside linear memory. */
export function inMemory(ptr: usize, len: usize): bool {
  const size = <usize>memory.size() << 16;
  return ptr <= size && len <= size - ptr;
}

/** Copies bytes into a new `malloc` buffer and packs `ptr << 32 | len`; 0 when empty. */
export function packBytes(bytes: Uint8Array): i64 {
  const len = bytes.length;
  if (len == 0) return 0;
  const ptr = malloc(len);
  memory.copy(<usize>ptr, bytes.dataStart, <usize>len);
  return (<i64><u32>ptr << 32) | <i64><u32>len;
}

/** Packs an error string: UTF-8 in a `malloc` buffer, bit 31 of the length set. */
export function packError(message: string): i64 {
  const len = String.UTF8.byteLength(message);
  if (len == 0) return <i64>ERROR_BIT;
  const ptr = malloc(len);
  String.UTF8.encodeUnsafe(changetype<usize>(message), message.length, <usize>ptr);
  return (<i64><u32>ptr << 32) | <i64>(<u32>len | ERROR_BIT);
}

/** The address to pass to an `env` import for an encoded request: 0 for an empty one. */
export function hostRequestPointer(req: Uint8Array): i32 {
  return req.length == 0 ? 0 : <i32>req.dataStart;
}

/**
 * Reads a host function's packed response (written through `malloc`), copies it and frees the
 * host's buffer. A result of 0 is an empty message. A response outside linear memory reads as
 * empty rather than trapping.
 */
export function takeHostResponse(packed: i64): Uint8Array {
  const ptr = <usize><u32>(packed >>> 32);
  const len = <usize>(<u32>packed & ~ERROR_BIT);
  if (len == 0 || !inMemory(ptr, len)) {
    free(<i32>ptr);
    return new Uint8Array(0);
  }
  const out = new Uint8Array(<i32>len);
  memory.copy(out.dataStart, ptr, len);
  free(<i32>ptr);
  return out;
}
