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
