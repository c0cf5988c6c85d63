import type { JsonValue } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import { CallContentType, decodeCallReply, encodeCallRequest } from "./call-protocol.js";
import { BusError } from "./errors.js";
import { subjects } from "./subjects.js";
import type { Bus } from "./types.js";

/** Navidrome's default plugin call timeout. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/**
 * Extra wait past the deadline, so a worker that gives up at the deadline gets its own `timeout`
 * answer (which names the plugin's limit) back to the caller before the bus times out.
 */
const REPLY_GRACE_MS = 250;

export interface PluginCall {
  readonly plugin: string;
  /** e.g. `MetadataAgent` */
  readonly capability: string;
  /** e.g. `GetArtistMBID` */
  readonly method: string;
  /** @default 30000 */
  readonly timeoutMs?: number;
  readonly traceparent?: string;
  /** Who is calling, for the worker's logs and metrics. */
  readonly caller?: string;
}

/**
 * Calls a plugin method through any worker. `request` gives the request message as protobuf bytes
 * and resolves with the response bytes; `json` gives it in the protobuf JSON mapping and resolves
 * with the response as JSON. Failures are `CallError`s: the worker's code, or `timeout` when no
 * answer came in time, or `unavailable` when no worker listens.
 */
export function callPlugin(bus: Bus, namespace: string, call: PluginCall & { readonly request: Uint8Array }): Promise<Uint8Array>;
export function callPlugin(bus: Bus, namespace: string, call: PluginCall & { readonly json: JsonValue }): Promise<JsonValue>;
export async function callPlugin(
  bus: Bus,
  namespace: string,
  call: PluginCall & ({ readonly request: Uint8Array } | { readonly json: JsonValue }),
): Promise<Uint8Array | JsonValue> {
  const asJson = "json" in call;
  const payload = asJson ? new TextEncoder().encode(JSON.stringify(call.json)) : call.request;
  const subject = subjects(namespace).call(call.plugin, call.capability, call.method);
  const timeoutMs = call.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const wire = encodeCallRequest(payload, {
    deadlineMs: Date.now() + timeoutMs,
    contentType: asJson ? CallContentType.Json : CallContentType.Protobuf,
    ...(call.traceparent === undefined ? {} : { traceparent: call.traceparent }),
    ...(call.caller === undefined ? {} : { caller: call.caller }),
  });
  const what = `${call.plugin} ${call.capability}.${call.method}`;
  let reply;
  try {
    reply = await bus.request(subject, wire.data, { timeoutMs: timeoutMs + REPLY_GRACE_MS, headers: wire.headers });
  } catch (err) {
    if (BusError.is(err, "timeout")) {
      throw new CallError("timeout", `call to ${what} got no answer within ${timeoutMs} ms`, { cause: err });
    }
    if (BusError.is(err, "no_responders")) {
      throw new CallError("unavailable", `no worker is listening for calls to ${what}`, { cause: err });
    }
    if (BusError.is(err, "disconnected") || BusError.is(err, "closed")) {
      throw new CallError("unavailable", `call to ${what} failed: ${err.message}`, { cause: err });
    }
    throw err;
  }
  const data = decodeCallReply(reply);
  return asJson ? (JSON.parse(new TextDecoder().decode(data)) as JsonValue) : data;
}
