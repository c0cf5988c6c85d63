import { ScalarType } from "@bufbuild/protobuf";

/** How one protobuf scalar type is represented and coded in AssemblyScript (see assembly/wire.ts). */
export interface ScalarCoding {
  /** AssemblyScript type of a field. */
  readonly type: string;
  /** Default value expression. */
  readonly zero: string;
  /** `WireType` member of a single value. */
  readonly wireType: "Varint" | "Fixed64" | "LengthDelimited" | "Fixed32";
  /** Reader and Writer method of a tagged value. */
  readonly method: string;
  /** Expression that is true when `value` differs from the proto3 default (so it is encoded). */
  isSet(value: string): string;
  /** Statement writing one untagged element of a packed field; undefined for strings and bytes. */
  packed?: (value: string) => string;
}

const numeric = (
  type: string,
  wireType: ScalarCoding["wireType"],
  method: string,
  packed: (value: string) => string,
): ScalarCoding => ({ type, zero: "0", wireType, method, isSet: (v) => `${v} != 0`, packed });

const SCALARS: Record<ScalarType, ScalarCoding> = {
  [ScalarType.DOUBLE]: numeric("f64", "Fixed64", "double", (v) => `w.rawFixed64(reinterpret<u64>(${v}));`),
  [ScalarType.FLOAT]: numeric("f32", "Fixed32", "float", (v) => `w.rawFixed32(reinterpret<u32>(${v}));`),
  [ScalarType.INT64]: numeric("i64", "Varint", "int64", (v) => `w.rawVarint(<u64>${v});`),
  [ScalarType.UINT64]: numeric("u64", "Varint", "uint64", (v) => `w.rawVarint(${v});`),
  [ScalarType.INT32]: numeric("i32", "Varint", "int32", (v) => `w.rawInt32(${v});`),
  [ScalarType.FIXED64]: numeric("u64", "Fixed64", "fixed64", (v) => `w.rawFixed64(${v});`),
  [ScalarType.FIXED32]: numeric("u32", "Fixed32", "fixed32", (v) => `w.rawFixed32(${v});`),
  [ScalarType.BOOL]: {
    type: "bool",
    zero: "false",
    wireType: "Varint",
    method: "bool",
    isSet: (v) => v,
    packed: (v) => `w.rawVarint(${v} ? 1 : 0);`,
  },
  [ScalarType.STRING]: {
    type: "string",
    zero: '""',
    wireType: "LengthDelimited",
    method: "string",
    isSet: (v) => `${v}.length != 0`,
  },
  [ScalarType.BYTES]: {
    type: "Uint8Array",
    zero: "new Uint8Array(0)",
    wireType: "LengthDelimited",
    method: "bytes",
    isSet: (v) => `${v}.length != 0`,
  },
  [ScalarType.UINT32]: numeric("u32", "Varint", "uint32", (v) => `w.rawVarint(<u64>${v});`),
  [ScalarType.SFIXED32]: numeric("i32", "Fixed32", "sfixed32", (v) => `w.rawFixed32(<u32>${v});`),
  [ScalarType.SFIXED64]: numeric("i64", "Fixed64", "sfixed64", (v) => `w.rawFixed64(<u64>${v});`),
  [ScalarType.SINT32]: numeric("i32", "Varint", "sint32", (v) => `w.rawSint32(${v});`),
  [ScalarType.SINT64]: numeric("i64", "Varint", "sint64", (v) => `w.rawSint64(${v});`),
};

/** Enums travel as int32 varints; fields hold the number so unknown values survive. */
export const ENUM_CODING: ScalarCoding = numeric("i32", "Varint", "enumValue", (v) => `w.rawInt32(${v});`);

export function scalarCoding(type: ScalarType): ScalarCoding {
  return SCALARS[type];
}
