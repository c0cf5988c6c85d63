/**
 * The worker's three request-reply handlers, all in the workers' queue group:
 *
 *   tonearm.<ns>.call.<plugin>.<Capability>.<Method>   a plugin call (call protocol, see
 *                                                      @tonearm/bus call-protocol)
 *   tonearm.<ns>.agents.<Method>                       metadata-agent orchestration (agents.ts)
 *   tonearm.<ns>.worker.verify                         the registry's "does this version load?"
 *                                                      (@tonearm/bus plugin-catalog)
 *
 * Errors are answered as call-protocol errors: not_found (unknown plugin), load_error (FAILED,
 * with the record's error, or a version that does not load), unavailable (DISABLED, LOADING),
 * not_implemented (capability not in the manifest), bad_request (unknown method, malformed
 * request), timeout (deadline passed), and whatever the runtime answered.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { CallError, CallErrorCode, findMethod } from "@tonearm/abi";
import {
  BusError,
  CallHeader,
  decodeCallRequest,
  decodeToken,
  encodeCallError,
  encodeCallReply,
  type Bus,
  type BusMessage,
  type MessageHandler,
  type Subjects,
  type WireMessage,
} from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import { parseTraceparent, type Logger, type Metrics } from "@tonearm/telemetry";
import { AGENT_HEADER, askAgents } from "./agents.js";
import { beforeDeadline } from "./deadline.js";
import type { PluginCalls } from "./plugin-calls.js";
import { asCallError, type PluginVersions } from "./plugin-versions.js";

export type RequestKind = "call" | "agents" | "verify";

export interface HandlerContext {
  readonly bus: Bus;
  readonly names: Subjects;
  readonly calls: PluginCalls;
  readonly versions: PluginVersions;
  /** Navidrome's `Agents`: plugin ids in the order they are asked. */
  readonly agents: readonly string[];
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  /** Requests answered, by kind. */
  readonly served: Record<RequestKind, number>;
}

export function callHandler(ctx: HandlerContext): MessageHandler {
  return async (message) => {
    const startedMs = performance.now();
    const target = ctx.names.parseCall(message.subject);
    const method = target && findMethod(target.capability, target.method);
    try {
      if (target === undefined) {
        throw new CallError(CallErrorCode.BadRequest, `"${message.subject}" is not a call subject (${ctx.names.prefix}.call.<plugin>.<Capability>.<Method>)`);
      }
      let admitted;
      try {
        admitted = ctx.calls.admit(target.plugin, target.capability, target.method, message.headers[CallHeader.Caller]);
        if (method === undefined) {
          throw new CallError(CallErrorCode.BadRequest, `${target.capability}.${target.method} is not a method of a plugin capability`);
        }
        ctx.calls.checkDeclared(admitted, method);
      } catch (err) {
        if (err instanceof CallError) ctx.calls.recordRefusal(target.plugin, method, startedMs, err);
        throw err;
      }
      const call = decodeCallRequest(message, method.input);
      const response = await ctx.calls.run(admitted, method, call.request, call.deadlineMs);
      answer(ctx, "call", message, encodeCallReply(response, call.contentType, method.output));
      if (ctx.logger.isLevelEnabled("debug")) ctx.logger.debug(callFields(message, target), "call answered");
    } catch (err) {
      const error = asCallError(err);
      answerError(ctx, "call", message, error);
      const level = error.code === CallErrorCode.PluginError || error.code === CallErrorCode.Timeout ? "warn" : "debug";
      ctx.logger[level]({ ...callFields(message, target), code: error.code, err: error.message }, "call failed");
    }
  };
}

export function agentsHandler(ctx: HandlerContext): MessageHandler {
  const prefix = `${ctx.names.prefix}.agents.`;
  // Each skipped agent is reported once per reason: a name such as lastfm is skipped on every request.
  const reported = new Set<string>();
  const skip = (agent: string, error: CallError): undefined => {
    const key = `${agent}\u0000${error.code}`;
    if (!reported.has(key)) {
      reported.add(key);
      ctx.logger.info({ agent, code: error.code, reason: error.message }, "agent skipped: not a callable MetadataAgent plugin");
    }
    return undefined;
  };
  return async (message) => {
    let method: string | undefined;
    try {
      method = agentMethod(message.subject, prefix);
      const capabilityMethod = findMethod("MetadataAgent", method);
      if (capabilityMethod === undefined) throw new CallError(CallErrorCode.BadRequest, `${method} is not a MetadataAgent method`);
      const call = decodeCallRequest(message, capabilityMethod.input);
      const reply = await askAgents(
        method,
        call.request,
        ctx.agents,
        async (agent) => {
          let admitted;
          try {
            admitted = ctx.calls.admit(agent, capabilityMethod.capability, capabilityMethod.method, undefined);
            ctx.calls.checkDeclared(admitted, capabilityMethod);
          } catch (err) {
            if (err instanceof CallError) return skip(agent, err);
            throw err;
          }
          return ctx.calls.run(admitted, capabilityMethod, call.request, call.deadlineMs);
        },
        {
          ...(call.deadlineMs === undefined ? {} : { deadlineMs: call.deadlineMs }),
          onAgentError: (agent, err) => logAgentError(ctx.logger, message, agent, method ?? "", err),
        },
      );
      const wire = encodeCallReply(reply.response, call.contentType, capabilityMethod.output);
      const headers = reply.agent === undefined ? wire.headers : { ...wire.headers, [AGENT_HEADER]: reply.agent };
      answer(ctx, "agents", message, { data: wire.data, headers });
    } catch (err) {
      const error = asCallError(err);
      answerError(ctx, "agents", message, error);
      ctx.logger.debug({ method, traceId: traceId(message), code: error.code, err: error.message }, "agents request failed");
    }
  };
}

export function verifyHandler(ctx: HandlerContext): MessageHandler {
  return async (message) => {
    let record: busProto.PluginRecord | undefined;
    try {
      const call = decodeCallRequest(message, busProto.PluginRecordSchema);
      try {
        record = fromBinary(busProto.PluginRecordSchema, call.request);
      } catch (err) {
        throw new CallError(CallErrorCode.BadRequest, `a verify request carries a PluginRecord: ${describe(err)}`, { cause: err });
      }
      if (record.id === "" || record.sha256 === "") throw new CallError(CallErrorCode.BadRequest, "the PluginRecord to verify needs an id and a sha256");
      const { id } = record;
      await beforeDeadline(ctx.versions.prepare({ record, exact: true }), call.deadlineMs, () => `plugin ${id} finished loading`);
      answer(ctx, "verify", message, { data: new Uint8Array(0), headers: {} });
      ctx.logger.info({ plugin: id, sha256: record.sha256 }, "plugin verified: it loads");
    } catch (err) {
      const error = asCallError(err);
      answerError(ctx, "verify", message, error);
      ctx.logger.warn({ plugin: record?.id, sha256: record?.sha256, code: error.code, err: error.message }, "plugin verification failed");
    }
  };
}

function agentMethod(subject: string, prefix: string): string {
  const token = subject.startsWith(prefix) ? subject.slice(prefix.length) : "";
  if (token === "" || token.includes(".")) {
    throw new CallError(CallErrorCode.BadRequest, `"${subject}" is not an agents subject (${prefix}<Method>)`);
  }
  try {
    return decodeToken(token);
  } catch (err) {
    if (err instanceof BusError) throw new CallError(CallErrorCode.BadRequest, err.message, { cause: err });
    throw err;
  }
}

function logAgentError(logger: Logger, message: BusMessage, agent: string, method: string, err: unknown): void {
  const error = asCallError(err);
  // The sentinels are how an agent says "not me": the next one is asked, as in Navidrome.
  const expected = error.code === CallErrorCode.NotFound || error.code === CallErrorCode.NotImplemented;
  logger[expected ? "debug" : "warn"]({ plugin: agent, method, traceId: traceId(message), code: error.code, err: error.message }, "agent failed; asking the next");
}

function answer(ctx: HandlerContext, kind: RequestKind, message: BusMessage, wire: WireMessage): void {
  ctx.bus.respond(message, wire.data, { headers: wire.headers });
  ctx.served[kind]++;
  ctx.metrics?.busRequests.inc({ subject_kind: kind, outcome: "ok" });
}

function answerError(ctx: HandlerContext, kind: RequestKind, message: BusMessage, error: CallError): void {
  const wire = encodeCallError(error);
  ctx.bus.respond(message, wire.data, { headers: wire.headers });
  ctx.served[kind]++;
  ctx.metrics?.busRequests.inc({ subject_kind: kind, outcome: error.code });
}

function callFields(message: BusMessage, target: { plugin: string; capability: string; method: string } | undefined): Record<string, unknown> {
  return {
    plugin: target?.plugin,
    capability: target?.capability,
    method: target?.method,
    caller: message.headers[CallHeader.Caller],
    traceId: traceId(message),
  };
}

function traceId(message: BusMessage): string | undefined {
  return parseTraceparent(message.headers[CallHeader.Traceparent])?.traceId;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
