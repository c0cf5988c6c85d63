/**
 * Asking a worker whether a published plugin loads, before anyone may call it.
 *
 * Subject  tonearm.<ns>.worker.verify (request-reply, any worker)
 * Request  data: the plugin's `PluginRecord` (protobuf), state LOADING, its artifact already in
 *                the object store under `record.sha256`
 *          headers: Tonearm-Deadline, Tonearm-Caller: registry (call protocol conventions)
 * Reply    success: empty data, no error headers
 *          failure: the call protocol's error headers; `load_error` with Navidrome's text when
 *                   the module does not compile or link. `unavailable` and `timeout` mean "ask
 *                   again later"; every other code is final for this version of the plugin.
 */
import { toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import { BusError, decodeCallReply, encodeCallRequest, subjects, type Bus } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";

/** The subject workers answer verification requests on. */
export function verifySubject(namespace: string): string {
  return `${subjects(namespace).prefix}.worker.verify`;
}

export type VerifyOutcome =
  | { readonly kind: "ok" }
  /** The plugin cannot load: final for this artifact. */
  | { readonly kind: "failed"; readonly message: string }
  /** No worker answered, or one asked to be asked again: retry later. */
  | { readonly kind: "retry"; readonly message: string };

/** The caller name the registry puts on its requests; workers let LOADING plugins take its OnInit. */
export const REGISTRY_CALLER = "registry";

export async function verifyPlugin(
  bus: Bus,
  namespace: string,
  record: busProto.PluginRecord,
  timeoutMs: number,
): Promise<VerifyOutcome> {
  const payload = toBinary(busProto.PluginRecordSchema, record);
  const wire = encodeCallRequest(payload, { deadlineMs: Date.now() + timeoutMs, caller: REGISTRY_CALLER });
  let reply;
  try {
    reply = await bus.request(verifySubject(namespace), wire.data, { timeoutMs, headers: wire.headers });
  } catch (err) {
    if (
      BusError.is(err, "no_responders") ||
      BusError.is(err, "timeout") ||
      BusError.is(err, "disconnected") ||
      BusError.is(err, "closed")
    ) {
      return { kind: "retry", message: `no worker verified ${record.id}: ${err.message}` };
    }
    throw err;
  }
  try {
    decodeCallReply(reply);
    return { kind: "ok" };
  } catch (err) {
    if (!(err instanceof CallError)) throw err;
    if (err.code === "unavailable" || err.code === "timeout") return { kind: "retry", message: err.message };
    return { kind: "failed", message: err.message };
  }
}
