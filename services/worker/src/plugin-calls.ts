/**
 * Running one plugin method for a caller: the gate's verdict on the plugin, the manifest's
 * capabilities, the version to run on, and the caller's deadline, then the runtime.
 */
import { CallError, CallErrorCode, type CapabilityMethod } from "@tonearm/abi";
import type { PluginRecord } from "@tonearm/bus";
import { parseManifest, type PluginManifest } from "@tonearm/manifest";
import type { Runtime } from "@tonearm/runtime";
import { recordPluginCall, type Metrics } from "@tonearm/telemetry";
import type { CallGate, CallTarget } from "./call-gate.js";
import { beforeDeadline, timeLeft } from "./deadline.js";
import type { PluginVersions } from "./plugin-versions.js";

export class PluginCalls {
  readonly #gate: CallGate;
  readonly #versions: PluginVersions;
  readonly #runtime: Runtime;
  readonly #metrics: Metrics | undefined;
  /** Parsed manifests of the records seen; a record object is replaced, never changed, on update. */
  readonly #manifests = new WeakMap<PluginRecord, PluginManifest | CallError>();

  constructor(gate: CallGate, versions: PluginVersions, runtime: Runtime, metrics: Metrics | undefined) {
    this.#gate = gate;
    this.#versions = versions;
    this.#runtime = runtime;
    this.#metrics = metrics;
  }

  /** The version a call runs on, or the CallError refusing it (see CallGate). */
  admit(id: string, capability: string, method: string, caller: string | undefined): CallTarget {
    return this.#gate.admit(id, capability, method, caller);
  }

  /** Throws `not_implemented` unless the target's manifest lists the method's capability. */
  checkDeclared(target: CallTarget, method: CapabilityMethod): void {
    const manifest = this.#manifest(target.record);
    if (!manifest.capabilities.includes(method.capability)) {
      throw new CallError(CallErrorCode.NotImplemented, `plugin ${target.record.id} does not declare the ${method.capability} capability`);
    }
  }

  /**
   * Runs an admitted call, the version's load included, within the caller's deadline, and counts
   * it in the plugin-call metrics (duration from here to the answer).
   */
  async run(target: CallTarget, method: CapabilityMethod, request: Uint8Array, deadlineMs: number | undefined): Promise<Uint8Array> {
    const { id } = target.record;
    const startedMs = performance.now();
    let code: CallErrorCode | undefined;
    try {
      const what = (): string => `plugin ${id} could run ${method.capability}.${method.method}`;
      timeLeft(deadlineMs, this.#runtime.options.callTimeoutMs, what);
      await beforeDeadline(this.#versions.prepare(target), deadlineMs, () => `plugin ${id} finished loading`);
      const timeoutMs = timeLeft(deadlineMs, this.#runtime.options.callTimeoutMs, what);
      return await this.#runtime.call(id, method.capability, method.method, request, { timeoutMs });
    } catch (err) {
      code = err instanceof CallError ? err.code : CallErrorCode.PluginError;
      throw err;
    } finally {
      this.#record(id, method, startedMs, code);
    }
  }

  /**
   * Counts a call refused before it could run. Only plugins with a record and methods that exist
   * are counted, so callers cannot grow the metric's label sets at will.
   */
  recordRefusal(id: string, method: CapabilityMethod | undefined, startedMs: number, error: CallError): void {
    if (method === undefined || error.code === CallErrorCode.NotFound || error.code === CallErrorCode.BadRequest) return;
    this.#record(id, method, startedMs, error.code);
  }

  #record(id: string, method: CapabilityMethod, startedMs: number, code: CallErrorCode | undefined): void {
    if (this.#metrics === undefined) return;
    recordPluginCall(this.#metrics, {
      pluginId: id,
      capability: method.capability,
      method: method.method,
      durationMs: performance.now() - startedMs,
      ...(code === undefined ? {} : { code }),
    });
  }

  #manifest(record: PluginRecord): PluginManifest {
    let parsed = this.#manifests.get(record);
    if (parsed === undefined) {
      try {
        parsed = parseManifest(record.manifestJson);
      } catch (err) {
        parsed = new CallError(CallErrorCode.LoadError, err instanceof Error ? err.message : String(err), { cause: err });
      }
      this.#manifests.set(record, parsed);
    }
    if (parsed instanceof CallError) throw parsed;
    return parsed;
  }
}
