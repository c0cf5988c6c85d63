/**
 * W3C Trace Context (`traceparent` header, version 00): carried on bus messages so one music-server
 * request can be followed through workers, plugins and host calls in the logs.
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */
import { randomBytes } from "node:crypto";

export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero: the span this context describes. */
  readonly spanId: string;
  /** The caller records this trace (flag bit 0). */
  readonly sampled: boolean;
}

export const TRACEPARENT_HEADER = "traceparent";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const SAMPLED_FLAG = 0x01;

/**
 * Reads a traceparent header. Only version 00 in its exact form is accepted (lowercase hex, ids
 * not all zero); anything else is undefined, and the receiver starts a new trace.
 */
export function parseTraceparent(header: string | undefined | null): TraceContext | undefined {
  if (typeof header !== "string") return undefined;
  const match = TRACEPARENT.exec(header);
  if (!match) return undefined;
  const [, traceId = "", spanId = "", flags = "00"] = match;
  if (isZero(traceId) || isZero(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & SAMPLED_FLAG) !== 0 };
}

/** The traceparent header for a context; throws RangeError for ids a receiver would reject. */
export function formatTraceparent(context: TraceContext): string {
  if (!TRACE_ID.test(context.traceId) || isZero(context.traceId)) {
    throw new RangeError(`trace id must be 32 lowercase hex digits, not all zero: "${context.traceId}"`);
  }
  if (!SPAN_ID.test(context.spanId) || isZero(context.spanId)) {
    throw new RangeError(`span id must be 16 lowercase hex digits, not all zero: "${context.spanId}"`);
  }
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? "01" : "00"}`;
}

/** A new trace with its first span; sampled, as nothing downstream samples yet. */
export function newTrace(): TraceContext {
  return { traceId: randomId(16), spanId: randomId(8), sampled: true };
}

/** A span inside `parent`'s trace: same trace id and sampling, new span id. */
export function childSpan(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: randomId(8), sampled: parent.sampled };
}

function randomId(bytes: number): string {
  for (;;) {
    const id = randomBytes(bytes).toString("hex");
    if (!isZero(id)) return id;
  }
}

function isZero(hex: string): boolean {
  return /^0+$/.test(hex);
}
