/**
 * The plugin-call protocol on `tonearm.<ns>.call.<plugin>.<Capability>.<Method>` (request-reply).
 *
 * Request  data: the capability's request message — protobuf bytes, unchanged, by default; the
 *                protobuf JSON mapping when `Content-Type: application/json`.
 *          headers (all optional):
 *            Tonearm-Deadline   epoch milliseconds after which the caller stops waiting
 *            traceparent        W3C trace context of the caller
 *            Tonearm-Caller     who is calling (service or client name), for logs and metrics
 *            Content-Type       application/protobuf (default) | application/json
 * Reply    success: the response message in the request's content type (Content-Type is set only
 *                   for JSON); error: empty data with
 *            Tonearm-Error-Code     not_found | not_implemented | timeout | unavailable |
 *                                   plugin_error | load_error | bad_request | forbidden
 *            Tonearm-Error-Message  human-readable, single line
 *
 * Errors travel as data and become a `CallError` again at the receiving edge.
 */
import { fromBinary, fromJsonString, toBinary, toJsonString, type DescMessage } from "@bufbuild/protobuf";
import { CallError, isCallErrorCode } from "@tonearm/abi";
import type { Headers } from "./types.js";

export const CallHeader = {
  Deadline: "Tonearm-Deadline",
  Traceparent: "traceparent",
  Caller: "Tonearm-Caller",
  ContentType: "Content-Type",
  ErrorCode: "Tonearm-Error-Code",
  ErrorMessage: "Tonearm-Error-Message",
} as const;

export const CallContentType = { Protobuf: "application/protobuf", Json: "application/json" } as const;
export type CallContentType = (typeof CallContentType)[keyof typeof CallContentType];

/** The last epoch millisecond a JavaScript Date can hold. */
const MAX_DATE_MS = 8.64e15;

/** Header values must stay on one line; long texts are cut to keep messages small. */
const MAX_ERROR_MESSAGE_CHARS = 2048;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();

export interface WireMessage {
  readonly data: Uint8Array;
  readonly headers: Headers;
}

export interface CallMetadata {
  /** Epoch milliseconds after which the caller no longer waits for the answer. */
  readonly deadlineMs?: number;
  readonly traceparent?: string;
  readonly caller?: string;
}

export interface CallRequest extends CallMetadata {
  /** The capability's request message as protobuf bytes, whatever encoding the caller used. */
  readonly request: Uint8Array;
  /** The encoding the caller sent, and wants the reply in. */
  readonly contentType: CallContentType;
}

/** `payload` is protobuf bytes, or UTF-8 JSON text when `contentType` is JSON. */
export function encodeCallRequest(
  payload: Uint8Array,
  metadata: CallMetadata & { readonly contentType?: CallContentType } = {},
): WireMessage {
  const headers: Headers = {};
  if (metadata.deadlineMs !== undefined) headers[CallHeader.Deadline] = String(Math.floor(metadata.deadlineMs));
  if (metadata.traceparent !== undefined) headers[CallHeader.Traceparent] = metadata.traceparent;
  if (metadata.caller !== undefined) headers[CallHeader.Caller] = oneLine(metadata.caller);
  // Protobuf is the default: no header for it, to keep the hot path small.
  if (metadata.contentType === CallContentType.Json) headers[CallHeader.ContentType] = CallContentType.Json;
  return { data: payload, headers };
}

/**
 * Reads a call request; `input` is the capability method's request type, needed to turn JSON
 * into protobuf. Throws `CallError` `bad_request` for anything malformed.
 */
export function decodeCallRequest(message: WireMessage, input: DescMessage): CallRequest {
  const contentType = parseContentType(message.headers[CallHeader.ContentType]);
  const deadline = message.headers[CallHeader.Deadline];
  // Beyond the last instant a Date holds, a deadline would break whatever formats or compares it.
  if (deadline !== undefined && !(/^\d{1,16}$/.test(deadline) && Number(deadline) <= MAX_DATE_MS)) {
    throw new CallError("bad_request", `${CallHeader.Deadline} must be epoch milliseconds, got "${deadline.slice(0, 64)}"`);
  }
  const traceparent = message.headers[CallHeader.Traceparent];
  const caller = message.headers[CallHeader.Caller];
  return {
    request: contentType === CallContentType.Json ? jsonToBinary(message.data, input) : message.data,
    contentType,
    ...(deadline === undefined ? {} : { deadlineMs: Number(deadline) }),
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(caller === undefined ? {} : { caller }),
  };
}

/**
 * Encodes a successful answer in the caller's content type; `output` is the method's response
 * type. A plugin answer that is not valid protobuf cannot become JSON: `plugin_error`.
 */
export function encodeCallReply(response: Uint8Array, contentType: CallContentType, output: DescMessage): WireMessage {
  if (contentType === CallContentType.Protobuf) return { data: response, headers: {} };
  let json: string;
  try {
    json = toJsonString(output, fromBinary(output, response));
  } catch (err) {
    throw new CallError("plugin_error", `the plugin returned a malformed ${output.typeName}: ${describe(err)}`, {
      cause: err,
    });
  }
  return { data: utf8.encode(json), headers: { [CallHeader.ContentType]: CallContentType.Json } };
}

export function encodeCallError(error: CallError): WireMessage {
  return {
    data: new Uint8Array(0),
    headers: {
      [CallHeader.ErrorCode]: error.code,
      [CallHeader.ErrorMessage]: oneLine(error.message).slice(0, MAX_ERROR_MESSAGE_CHARS),
    },
  };
}

/**
 * Returns the answer's data (protobuf bytes, or JSON text if the request was JSON), or throws the
 * `CallError` the reply carries. An unknown code from a newer peer becomes `plugin_error`.
 */
export function decodeCallReply(message: WireMessage): Uint8Array {
  const code = message.headers[CallHeader.ErrorCode];
  if (code === undefined) return message.data;
  const text = message.headers[CallHeader.ErrorMessage] ?? code;
  if (isCallErrorCode(code)) throw new CallError(code, text);
  throw new CallError("plugin_error", `${text} (unknown error code "${code}")`);
}

function parseContentType(value: string | undefined): CallContentType {
  if (value === undefined) return CallContentType.Protobuf;
  const mediaType = (value.split(";")[0] ?? "").trim().toLowerCase();
  if (mediaType === CallContentType.Protobuf || mediaType === CallContentType.Json) return mediaType;
  throw new CallError(
    "bad_request",
    `unsupported ${CallHeader.ContentType} "${value.slice(0, 64)}": use ${CallContentType.Protobuf} or ${CallContentType.Json}`,
  );
}

function jsonToBinary(data: Uint8Array, input: DescMessage): Uint8Array {
  try {
    const text = strictUtf8.decode(data);
    // An empty body is the empty message, as zero protobuf bytes are.
    return toBinary(input, fromJsonString(input, text.trim() === "" ? "{}" : text));
  } catch (err) {
    throw new CallError("bad_request", `the request is not a valid JSON ${input.typeName}: ${describe(err)}`, {
      cause: err,
    });
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
