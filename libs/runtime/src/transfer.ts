/**
 * Transfer lists for posting bytes between threads without copying. Only a view that owns its
 * whole ArrayBuffer may be transferred: detaching a shared pool (Node's Buffer slab) or a view
 * into wasm memory would break its other users.
 */
export function transferable(bytes: Uint8Array): ArrayBuffer[] {
  const buffer = bytes.buffer;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength && bytes.byteLength > 0) {
    return [buffer];
  }
  return [];
}

/**
 * Below this size, cloning bytes costs less than moving them: a transfer detaches the buffer and
 * wraps it anew on the other side, which a few hundred bytes of copying beat.
 */
const MOVE_FROM_BYTES = 16 * 1024;

/**
 * `bytes` ready to post to another thread, with their transfer list. Cloning a view copies its
 * whole ArrayBuffer, twice (serialised, then deserialised): a request read from a socket is a
 * view into the whole chunk read, often tens of KiB for a few bytes of payload. So a view is
 * copied out first; small bytes are then cloned, large ones moved. `owned`: the caller gives the
 * bytes up, and a buffer of their own is moved without a copy; otherwise the caller's buffer is
 * never detached.
 */
export function postable(bytes: Uint8Array, owned = false): { readonly bytes: Uint8Array; readonly transfer: ArrayBuffer[] } {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  if (bytes.byteLength < MOVE_FROM_BYTES) return { bytes: whole ? bytes : bytes.slice(), transfer: [] };
  const moved = owned && whole ? bytes : bytes.slice();
  return { bytes: moved, transfer: transferable(moved) };
}
