import { CallError, CallErrorCode, findMethod } from "@tonearm/abi";
import type { PluginCalls } from "../plugin-calls.js";
import type { ScrobblerCall } from "./deliver.js";

/** The caller name scrobble deliveries carry in logs and metrics. */
export const SCROBBLES_CALLER = "scrobbles";

/** A Scrobbler call run by this worker's runtime, with the gate's and the manifest's checks. */
export function localScrobblerCall(calls: PluginCalls, plugin: string, timeoutMs: number): ScrobblerCall {
  return async (name, request) => {
    const method = findMethod("Scrobbler", name);
    if (method === undefined) throw new CallError(CallErrorCode.BadRequest, `Scrobbler.${name} is not a method`);
    const target = calls.admit(plugin, method.capability, method.method, SCROBBLES_CALLER);
    calls.checkDeclared(target, method);
    return calls.run(target, method, request, Date.now() + timeoutMs);
  };
}
