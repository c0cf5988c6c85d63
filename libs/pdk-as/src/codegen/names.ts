import type { DescEnum, DescFile, DescMessage } from "@bufbuild/protobuf";

/**
 * go-plugin's `toSnakeCase` (knqyf263/go-plugin), which names the `env` imports:
 * `GetArtistUrl` → `get_artist_url`, `ScheduleOneTime` → `schedule_one_time`.
 */
export function toSnakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z]+)/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

// Words AssemblyScript (as TypeScript) does not accept as a function or variable name.
const RESERVED = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else",
  "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof",
  "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void",
  "while", "with", "let", "static", "yield", "await", "implements", "interface", "package", "private",
  "protected", "public", "declare", "namespace", "module", "type", "abstract", "as", "from", "of",
]);

/** `GetArtistUrl` → `getArtistUrl`; reserved words get a trailing underscore (`Delete` → `delete_`). */
export function functionName(rpcName: string): string {
  const name = rpcName.charAt(0).toLowerCase() + rpcName.slice(1);
  return RESERVED.has(name) ? `${name}_` : name;
}

// Members every generated class has; a field of the same name gets a `$` suffix.
const MESSAGE_MEMBERS = new Set(["encode", "encodeTo", "mergeFrom", "decode", "tryDecode", "constructor"]);

/** The class member holding a field: protobuf-es's camel-cased local name, kept clear of our own members. */
export function memberName(localName: string): string {
  return MESSAGE_MEMBERS.has(localName) ? `${localName}$` : localName;
}

/** Class name of a message or enum inside its file: nested types are joined with `_` (`Outer_Inner`). */
export function typeName(desc: DescMessage | DescEnum): string {
  const pkg = desc.file.proto.package;
  const local = pkg ? desc.typeName.slice(pkg.length + 1) : desc.typeName;
  return local.replace(/\./g, "_");
}

/**
 * The namespace plugin authors use for a proto package: its last segment that is not a version,
 * so `navidrome.host.http.v1` → `http` and `navidrome.api.v1` → `api`.
 */
export function namespaceName(file: DescFile): string {
  const segments = file.proto.package.split(".").filter((s) => s !== "" && !/^v\d+([a-z]+\d*)?$/.test(s));
  const last = segments.at(-1);
  if (!last) throw new Error(`${file.name}.proto: a package name is required`);
  return last;
}

/** Output path of a proto file's module, without extension: `navidrome/host/http/v1/http`. */
export function modulePath(file: DescFile): string {
  return file.name;
}

/** A relative module specifier from one generated module to another path below the output root. */
export function relativeImport(fromModule: string, toPath: string): string {
  const fromDir = fromModule.split("/").slice(0, -1);
  const to = toPath.split("/");
  let common = 0;
  while (common < fromDir.length && common < to.length - 1 && fromDir[common] === to[common]) common++;
  const up = fromDir.length - common;
  const rest = to.slice(common).join("/");
  return up === 0 ? `./${rest}` : `${"../".repeat(up)}${rest}`;
}

/** An identifier for a namespace import of another generated file: `navidrome_host_http_v1`. */
export function importAlias(file: DescFile): string {
  return file.name.split("/").slice(0, -1).join("_").replace(/[^A-Za-z0-9_]/g, "_") || "_root";
}
