import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { getComments } from "@bufbuild/protoplugin";
import { memberName, typeName } from "./names.js";
import { ENUM_CODING, scalarCoding, type ScalarCoding } from "./scalars.js";

/** Resolves the AssemblyScript name of a message or enum from the module being generated. */
export type TypeRef = (desc: DescMessage | DescEnum) => string;

/** A code fragment as lines; nested blocks are indented by the caller. */
type Lines = string[];

const indent = (lines: Lines, depth = 1): Lines => lines.map((l) => (l === "" ? l : "  ".repeat(depth) + l));

/** A JSDoc block from a descriptor's leading comment, or nothing. */
export function docComment(desc: Parameters<typeof getComments>[0]): Lines {
  const text = getComments(desc).leading?.trim();
  if (!text) return [];
  const body = text.split("\n").map((l) => l.replace(/^ /, "").trimEnd());
  if (body.length === 1) return [`/** ${body[0]} */`];
  return ["/**", ...body.map((l) => (l ? ` * ${l}` : " *")), " */"];
}

/** The field kinds this generator emits; anything else stops generation with a clear message. */
function checkSupported(message: DescMessage, field: DescField): void {
  const where = `${message.typeName}.${field.name}`;
  if (field.oneof) throw new Error(`${where}: oneof fields are not supported by protoc-gen-as`);
  if ((field.fieldKind === "scalar" || field.fieldKind === "enum") && field.proto.proto3Optional) {
    throw new Error(`${where}: proto3 optional fields are not supported by protoc-gen-as`);
  }
  if (field.fieldKind === "map" && field.mapKey === undefined) throw new Error(`${where}: invalid map field`);
}

interface FieldPlan {
  readonly field: DescField;
  readonly member: string;
  readonly type: string;
  readonly zero: string;
  readonly encode: Lines;
  readonly decode: Lines;
}

export function emitMessage(message: DescMessage, ref: TypeRef): Lines {
  const name = typeName(message);
  const plans = message.fields.map((f) => {
    checkSupported(message, f);
    return planField(f, ref);
  });

  const ctor: Lines =
    plans.length === 0
      ? ["constructor() {", "  super();", "}"]
      : [
          "constructor(",
          ...indent(plans.flatMap((p) => [...docComment(p.field), `public ${p.member}: ${p.type} = ${p.zero},`])),
          ") {",
          "  super();",
          "}",
        ];

  const body: Lines = [
    ...ctor,
    "",
    "/** Decodes the protobuf binary format; malformed input yields the fields read before the fault. */",
    `static decode(buf: Uint8Array): ${name} {`,
    `  const m = new ${name}();`,
    "  m.mergeFrom(Reader.of(buf));",
    "  return m;",
    "}",
    "",
    "/** Decodes the protobuf binary format, or returns null if the input is malformed. */",
    `static tryDecode(buf: Uint8Array): ${name} | null {`,
    "  const r = Reader.of(buf);",
    `  const m = new ${name}();`,
    "  m.mergeFrom(r);",
    "  return r.failed ? null : m;",
    "}",
    "",
    plans.length === 0 ? "encodeTo(_w: Writer): void {}" : "encodeTo(w: Writer): void {",
    ...(plans.length === 0 ? [] : [...indent(plans.flatMap((p) => p.encode)), "}"]),
    "",
    "/** Reads fields up to the reader's end; repeated fields append, singular fields overwrite. */",
    "mergeFrom(r: Reader): void {",
    "  while (r.next()) {",
    ...(plans.length === 0
      ? []
      : [
          "    switch (r.field) {",
          ...indent(
            plans.flatMap((p) => [`case ${p.field.number}: {`, ...indent(p.decode), "  break;", "}"]),
            3,
          ),
          "    }",
        ]),
    "    r.skip();",
    "  }",
    "}",
  ];

  return [...docComment(message), `export class ${name} extends Message {`, ...indent(body), "}"];
}

export function emitEnum(desc: DescEnum): Lines {
  return [
    ...docComment(desc),
    `export namespace ${typeName(desc)} {`,
    ...indent(desc.values.flatMap((v) => [...docComment(v), `export const ${v.localName}: i32 = ${v.number};`])),
    "}",
  ];
}

function planField(field: DescField, ref: TypeRef): FieldPlan {
  const member = memberName(field.localName);
  const self = `this.${member}`;
  const n = field.number;

  switch (field.fieldKind) {
    case "scalar":
    case "enum": {
      const c = field.fieldKind === "enum" ? ENUM_CODING : scalarCoding(field.scalar);
      return {
        field,
        member,
        type: c.type,
        zero: c.zero,
        encode: [`if (${c.isSet(self)}) w.${c.method}(${n}, ${self});`],
        decode: [`if (r.wireType == WireType.${c.wireType}) {`, `  ${self} = r.${c.method}();`, "  continue;", "}"],
      };
    }
    case "message": {
      const t = ref(field.message);
      return {
        field,
        member,
        type: `${t} | null`,
        zero: "null",
        encode: [`{`, `  const v = ${self};`, `  if (v !== null) {`, "    w.fork();", "    v.encodeTo(w);", `    w.join(${n});`, "  }", "}"],
        // A message field seen twice merges, as protobuf requires.
        decode: [
          "if (r.wireType == WireType.LengthDelimited) {",
          "  const outer = r.enter();",
          `  let v = ${self};`,
          "  if (v === null) {",
          `    v = new ${t}();`,
          `    ${self} = v;`,
          "  }",
          "  v.mergeFrom(r);",
          "  r.leave(outer);",
          "  continue;",
          "}",
        ],
      };
    }
    case "list":
      return planList(field, member, ref);
    case "map":
      return planMap(field, member, ref);
  }
}

function planList(field: DescField & { fieldKind: "list" }, member: string, ref: TypeRef): FieldPlan {
  const self = `this.${member}`;
  const n = field.number;
  const loop = (stmts: Lines): Lines => [`for (let i = 0; i < ${self}.length; i++) {`, ...indent(stmts), "}"];

  if (field.listKind === "message") {
    const t = ref(field.message);
    return {
      field,
      member,
      type: `Array<${t}>`,
      zero: `new Array<${t}>()`,
      encode: loop(["w.fork();", `${self}[i].encodeTo(w);`, `w.join(${n});`]),
      decode: [
        "if (r.wireType == WireType.LengthDelimited) {",
        "  const outer = r.enter();",
        `  const v = new ${t}();`,
        "  v.mergeFrom(r);",
        "  r.leave(outer);",
        `  if (!r.failed) ${self}.push(v);`,
        "  continue;",
        "}",
      ],
    };
  }

  const c: ScalarCoding = field.listKind === "enum" ? ENUM_CODING : scalarCoding(field.scalar);
  const type = `Array<${c.type}>`;
  const single = [
    `if (r.wireType == WireType.${c.wireType}) {`,
    `  const v = r.${c.method}();`,
    `  if (!r.failed) ${self}.push(v);`,
    "  continue;",
    "}",
  ];
  if (!c.packed) {
    return { field, member, type, zero: `new ${type}()`, encode: loop([`w.${c.method}(${n}, ${self}[i]);`]), decode: single };
  }
  // Decoders accept packed and unpacked encodings alike; the encoder follows the field's option.
  const encode = field.packed
    ? [`if (${self}.length != 0) {`, "  w.fork();", ...indent(loop([c.packed(`${self}[i]`)])), `  w.join(${n});`, "}"]
    : loop([`w.${c.method}(${n}, ${self}[i]);`]);
  return {
    field,
    member,
    type,
    zero: `new ${type}()`,
    encode,
    decode: [
      "if (r.wireType == WireType.LengthDelimited) {",
      "  const outer = r.enter();",
      "  while (r.more()) {",
      `    const v = r.${c.method}();`,
      `    if (!r.failed) ${self}.push(v);`,
      "  }",
      "  r.leave(outer);",
      "  continue;",
      "}",
      ...single,
    ],
  };
}

function planMap(field: DescField & { fieldKind: "map" }, member: string, ref: TypeRef): FieldPlan {
  const self = `this.${member}`;
  const n = field.number;
  const key = scalarCoding(field.mapKey);
  const value: { type: string; zero: string; encode: string[]; decode: Lines } = (() => {
    if (field.mapKind === "message") {
      const t = ref(field.message);
      return {
        type: t,
        zero: `new ${t}()`,
        encode: ["w.fork();", "v.encodeTo(w);", "w.join(2);"],
        decode: [
          "if (r.field == 2 && r.wireType == WireType.LengthDelimited) {",
          "  const valueOuter = r.enter();",
          "  v.mergeFrom(r);",
          "  r.leave(valueOuter);",
          "  continue;",
          "}",
        ],
      };
    }
    const c = field.mapKind === "enum" ? ENUM_CODING : scalarCoding(field.scalar);
    return {
      type: c.type,
      zero: c.zero,
      encode: [`w.${c.method}(2, v);`],
      decode: [`if (r.field == 2 && r.wireType == WireType.${c.wireType}) {`, `  v = r.${c.method}();`, "  continue;", "}"],
    };
  })();
  const type = `Map<${key.type}, ${value.type}>`;
  return {
    field,
    member,
    type,
    zero: `new ${type}()`,
    // Entries always carry both key and value, even when they hold defaults.
    encode: [
      "{",
      `  const keys = ${self}.keys();`,
      "  for (let i = 0; i < keys.length; i++) {",
      "    const k = keys[i];",
      `    const v = ${self}.get(k);`,
      "    w.fork();",
      `    w.${key.method}(1, k);`,
      ...indent(value.encode, 2),
      `    w.join(${n});`,
      "  }",
      "}",
    ],
    decode: [
      "if (r.wireType == WireType.LengthDelimited) {",
      "  const outer = r.enter();",
      `  let k: ${key.type} = ${key.zero};`,
      `  let v: ${value.type} = ${value.zero};`,
      "  while (r.next()) {",
      `    if (r.field == 1 && r.wireType == WireType.${key.wireType}) {`,
      `      k = r.${key.method}();`,
      "      continue;",
      "    }",
      ...indent(value.decode, 2),
      "    r.skip();",
      "  }",
      "  r.leave(outer);",
      `  if (!r.failed) ${self}.set(k, v);`,
      "  continue;",
      "}",
    ],
  };
}
