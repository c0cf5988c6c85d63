/**
 * Typed and JSON front ends to `Runtime.call`: encode a request from a message or from protobuf JSON,
 * decode the response. The runtime itself only ever moves bytes.
 */
import { create, fromBinary, fromJson, toBinary, toJson, type JsonValue, type MessageInitShape, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { CallError, CallErrorCode, findMethod, type CapabilityMethod } from "@tonearm/abi";
import type { CallOptions, Runtime } from "./runtime.js";

function method(capability: string, name: string): CapabilityMethod {
  const m = findMethod(capability, name);
  if (!m) throw new CallError(CallErrorCode.BadRequest, `unknown method ${capability}/${name}`);
  return m;
}

/** Calls a method with a request message (or its init shape) and decodes the response message. */
export async function invoke<Out extends DescMessage = DescMessage>(
  runtime: Runtime,
  pluginId: string,
  capability: string,
  name: string,
  request: MessageInitShape<DescMessage> = {},
  options?: CallOptions,
): Promise<MessageShape<Out>> {
  const m = method(capability, name);
  const bytes = toBinary(m.input, create(m.input, request));
  const response = await runtime.call(pluginId, capability, name, bytes, options);
  return fromBinary(m.output, response) as MessageShape<Out>;
}

/** Encodes a request given as protobuf JSON; a malformed one is a `bad_request`. */
export function encodeJsonRequest(capability: string, name: string, json: JsonValue): Uint8Array {
  const m = method(capability, name);
  try {
    return toBinary(m.input, fromJson(m.input, json));
  } catch (err) {
    throw new CallError(CallErrorCode.BadRequest, `invalid ${m.input.name}: ${(err as Error).message}`);
  }
}

/** Decodes a response to protobuf JSON (proto3 mapping: default values omitted). */
export function decodeJsonResponse(capability: string, name: string, bytes: Uint8Array): JsonValue {
  const m = method(capability, name);
  return toJson(m.output, fromBinary(m.output, bytes));
}

/** Calls a method with a protobuf-JSON request and resolves with the protobuf-JSON response. */
export async function invokeJson(
  runtime: Runtime,
  pluginId: string,
  capability: string,
  name: string,
  json: JsonValue,
  options?: CallOptions,
): Promise<JsonValue> {
  const bytes = encodeJsonRequest(capability, name, json);
  return decodeJsonResponse(capability, name, await runtime.call(pluginId, capability, name, bytes, options));
}
