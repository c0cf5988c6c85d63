/**
 * Whether a plugin may take a call now, and on which version, from its published record:
 *
 *   no record, REMOVED        not_found
 *   FAILED                    load_error with the record's error
 *   DISABLED                  unavailable
 *   LOADING                   unavailable ("plugin <id> is loading"), except
 *                               - the registry's LifecycleManagement/OnInit, which runs on the
 *                                 version being loaded (Navidrome runs OnInit before use);
 *                               - an update of a plugin that was READY: calls go on being served
 *                                 by the READY version until the new one is
 *   READY                     served by the record's version
 */
import { CallError, CallErrorCode } from "@tonearm/abi";
import { PluginState, type PluginCatalog, type PluginRecord } from "@tonearm/bus";

/** The caller name the registry puts on its OnInit calls. */
export const REGISTRY_CALLER = "registry";

/** The version a call runs on. */
export interface CallTarget {
  /** The version the call should run on: loaded first when the runtime serves no acceptable one. */
  readonly record: PluginRecord;
  /** The call must run on exactly `record`, never on another version already loaded. */
  readonly exact: boolean;
  /** Another version that may serve the call as it is (the one being loaded during an update). */
  readonly alsoAcceptable?: PluginRecord;
}

export class CallGate {
  readonly #catalog: PluginCatalog;
  /** The last READY record of each plugin: what serves calls while an update is LOADING. */
  readonly #lastReady = new Map<string, PluginRecord>();

  constructor(catalog: PluginCatalog) {
    this.#catalog = catalog;
    for (const record of catalog.all()) this.follow(record);
  }

  /** Keeps track of the READY versions; call with every record change. */
  follow(record: PluginRecord): void {
    if (record.state === PluginState.READY) this.#lastReady.set(record.id, record);
    else if (record.state !== PluginState.LOADING) this.#lastReady.delete(record.id);
  }

  /** The version a plugin's calls run on now: its READY record, or during an update the last READY one. */
  preferred(id: string): PluginRecord | undefined {
    const record = this.#catalog.get(id);
    if (record?.state === PluginState.READY) return record;
    if (record?.state === PluginState.LOADING) return this.#lastReady.get(id);
    return undefined;
  }

  /**
   * The version a call of `capability`/`method` from `caller` runs on, or the CallError refusing
   * it. Capability and method are not checked here beyond recognising the registry's OnInit.
   */
  admit(id: string, capability: string, method: string, caller: string | undefined): CallTarget {
    const record = this.#catalog.get(id);
    if (record === undefined || record.state === PluginState.REMOVED) {
      throw new CallError(CallErrorCode.NotFound, `plugin not found: ${id}`);
    }
    switch (record.state) {
      case PluginState.READY:
        return { record, exact: false };
      case PluginState.FAILED:
        throw new CallError(CallErrorCode.LoadError, record.error !== "" ? record.error : `plugin ${id} failed to load`);
      case PluginState.DISABLED:
        throw new CallError(CallErrorCode.Unavailable, `plugin ${id} is disabled`);
      case PluginState.LOADING: {
        if (capability === "LifecycleManagement" && method === "OnInit" && caller === REGISTRY_CALLER) {
          return { record, exact: true };
        }
        const ready = this.#lastReady.get(id);
        if (ready !== undefined) return { record: ready, exact: false, alsoAcceptable: record };
        throw new CallError(CallErrorCode.Unavailable, `plugin ${id} is loading`);
      }
      default:
        throw new CallError(CallErrorCode.Unavailable, `plugin ${id} is not ready (state ${record.state})`);
    }
  }
}
