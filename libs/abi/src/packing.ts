/**
 * Result packing of the go-plugin ABI: an i64 holding `ptr << 32 | len`, where bit 31 of the low
 * word marks the payload as a UTF-8 error string rather than a protobuf message.
 */
export const ERROR_BIT = 0x8000_0000;
const LOW_MASK = 0xffff_ffffn;

export interface PackedResult {
  readonly ptr: number;
  readonly len: number;
  readonly isError: boolean;
}

export function unpackResult(value: bigint): PackedResult {
  const unsigned = BigInt.asUintN(64, value);
  const ptr = Number(unsigned >> 32n);
  const low = Number(unsigned & LOW_MASK);
  return { ptr, len: low & 0x7fff_ffff, isError: (low & ERROR_BIT) !== 0 };
}

/** Packs a pointer and length for a host → guest return (host responses never set the error bit). */
export function packResult(ptr: number, len: number, isError = false): bigint {
  if (len < 0 || len > 0x7fff_ffff) throw new RangeError(`payload length ${len} out of range`);
  const low = BigInt((isError ? len | ERROR_BIT : len) >>> 0);
  return BigInt.asIntN(64, (BigInt(ptr >>> 0) << 32n) | low);
}
