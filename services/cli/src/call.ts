/**
 * `tonearm call`: invokes one plugin method and prints the response as protobuf JSON. Failures are
 * reported as `error: <code>: <message>` so scripts can branch on the code.
 */
import { CallError, CallErrorCode } from "@tonearm/abi";
import type { JsonValue } from "@bufbuild/protobuf";

export interface MethodRef {
  readonly capability: string;
  readonly method: string;
}

export function parseMethodRef(text: string): MethodRef {
  const match = /^([A-Za-z]+)\/([A-Za-z]+)$/.exec(text);
  if (!match) throw new CallError(CallErrorCode.BadRequest, `expected <Capability>/<Method>, got "${text}"`);
  return { capability: match[1]!, method: match[2]! };
}

export function parseJsonArgument(text: string | undefined): JsonValue {
  if (text === undefined || text.trim() === "") return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new CallError(CallErrorCode.BadRequest, `request is not valid JSON: ${(err as Error).message}`);
  }
}

/** The line printed on stderr for a failed call. */
export function describeFailure(err: unknown): string {
  if (err instanceof CallError) return `error: ${err.code}: ${err.message}`;
  return `error: ${CallErrorCode.PluginError}: ${err instanceof Error ? err.message : String(err)}`;
}
