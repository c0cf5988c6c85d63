import type { DescService } from "@bufbuild/protobuf";
import { getComments } from "@bufbuild/protoplugin";
import { docComment, type TypeRef } from "./emit-message.js";
import { functionName, toSnakeCase } from "./names.js";

/** `go:plugin type=host` marks a service the host implements and plugins import from `env`. */
export function isHostService(service: DescService): boolean {
  const comments = getComments(service);
  const text = [...comments.leadingDetached, comments.leading ?? ""].join("\n");
  return /go:plugin\s+type=host\b/.test(text);
}

/**
 * Typed functions for a host service: each RPC becomes `@external("env", snake(Method))` plus a
 * function that encodes the request, calls the import and decodes the response. AssemblyScript
 * emits an import only for functions a plugin calls, so a plugin links just what it uses.
 */
export function emitHostService(service: DescService, ref: TypeRef): string[] {
  const lines: string[] = [`// Host functions of ${service.name}.`];
  for (const method of service.methods) {
    if (method.methodKind !== "unary") throw new Error(`${service.typeName}.${method.name}: only unary RPCs are supported`);
    const importName = toSnakeCase(method.name);
    const external = `env_${importName}`;
    const input = ref(method.input);
    const output = ref(method.output);
    const hasInput = method.input.fields.length > 0;
    const call = hasInput
      ? [`  const req = request.encode();`, `  return ${output}.decode(takeHostResponse(${external}(hostRequestPointer(req), req.length)));`]
      : [`  return ${output}.decode(takeHostResponse(${external}(0, 0)));`];
    const doc = docComment(method);
    lines.push(
      "",
      `@external("env", "${importName}")`,
      `declare function ${external}(offset: i32, size: i32): i64;`,
      "",
      ...(doc.length > 0 ? doc : [`/** Calls the host function \`env.${importName}\`. */`]),
      `export function ${functionName(method.name)}(${hasInput ? `request: ${input}` : ""}): ${output} {`,
      ...call,
      "}",
    );
  }
  return lines;
}
