/**
 * Running one plugin method for a caller: the gate's verdict on the plugin, the manifest's
 * capabilities, the version to run on, and the caller's deadline, then the runtime.
 *
 * Request bytes reach the plugin unchanged, but for one: an `OnInit` request carries the plugin's
 * settings as the registry published them, secret ones sealed; they are opened here, so the
 * plugin receives its settings in clear and the bus never carries them so.
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError, CallErrorCode, type CapabilityMethod } from "@tonearm/abi";
import type { PluginRecord } from "@tonearm/bus";
import { SecretsError, isSealed, type PluginSecrets } from "@tonearm/config";
import { parseManifest, type PluginManifest } from "@tonearm/manifest";
import { api } from "@tonearm/proto";
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
  readonly #secrets: PluginSecrets;
  /** Parsed manifests of the records seen; a record object is replaced, never changed, on update. */
  readonly #manifests = new WeakMap<PluginRecord, PluginManifest | CallError>();

  constructor(gate: CallGate, versions: PluginVersions, runtime: Runtime, metrics: Metrics | undefined, secrets: PluginSecrets) {
    this.#gate = gate;
    this.#versions = versions;
    this.#runtime = runtime;
    this.#metrics = metrics;
    this.#secrets = secrets;
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
      // Nearly every call finds its version served: no deadline timer then.
      if (!this.#versions.servesNow(target)) await beforeDeadline(this.#versions.prepare(target), deadlineMs, () => `plugin ${id} finished loading`);
      const timeoutMs = timeLeft(deadlineMs, this.#runtime.options.callTimeoutMs, what);
      const input = method.capability === "LifecycleManagement" && method.method === "OnInit" ? this.#openInitRequest(id, request) : request;
      return await this.#runtime.call(id, method.capability, method.method, input, { timeoutMs });
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

  /** The InitRequest with its sealed settings opened; bytes without any pass unchanged. */
  #openInitRequest(id: string, request: Uint8Array): Uint8Array {
    let init: api.InitRequest;
    try {
      init = fromBinary(api.InitRequestSchema, request);
    } catch {
      // Malformed bytes are the plugin's to refuse, as for any other request.
      return request;
    }
    if (!Object.values(init.config).some(isSealed)) return request;
    try {
      init.config = this.#secrets.open(id, init.config);
      return toBinary(api.InitRequestSchema, init);
    } catch (err) {
      if (err instanceof SecretsError) throw new CallError(CallErrorCode.BadRequest, err.message, { cause: err });
      throw err;
    }
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
