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
 * `bytes` in a buffer of their own, to be transferred. Cloning a view copies its whole
 * ArrayBuffer, twice (serialised, then deserialised): a request read from a socket is a view into
 * the whole chunk read, often tens of KiB for a few bytes of payload. Copying the view once and
 * transferring the copy moves only the payload, once. The caller's buffer is never detached.
 */
export function ownedCopy(bytes: Uint8Array): { readonly bytes: Uint8Array; readonly transfer: ArrayBuffer[] } {
  const copy = bytes.slice();
  return { bytes: copy, transfer: transferable(copy) };
}

/** Bytes the caller gives up, ready to post: their own buffer moved, or a view's bytes copied once and moved. */
export function movable(bytes: Uint8Array): { readonly bytes: Uint8Array; readonly transfer: ArrayBuffer[] } {
  const transfer = transferable(bytes);
  return transfer.length > 0 || bytes.byteLength === 0 ? { bytes, transfer } : ownedCopy(bytes);
}
