/** The one edge where nats.js types and errors become the bus's own. */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  NoRespondersError,
  RequestError,
  TimeoutError,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
} from "@nats-io/transport-node";
import { BusError } from "../errors.js";
import type { BusMessage, Headers } from "../types.js";

/** JetStream's "subjects overlap with an existing stream". */
const STREAM_SUBJECT_OVERLAP = 10065;
const STREAM_NAME_IN_USE = 10058;

export function toNatsHeaders(headers: Headers | undefined): MsgHdrs | undefined {
  if (!headers) return undefined;
  const entries = Object.entries(headers);
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  for (const [name, value] of entries) h.set(name, value);
  return h;
}

export function fromNatsHeaders(headers: MsgHdrs | undefined): Headers {
  const out: Headers = {};
  if (!headers) return out;
  for (const [name, values] of headers) {
    const last = values[values.length - 1];
    if (last !== undefined) out[name] = last;
  }
  return out;
}

export function toBusMessage(msg: Msg): BusMessage {
  const message = { subject: msg.subject, data: msg.data, headers: fromNatsHeaders(msg.headers) };
  return msg.reply ? { ...message, reply: msg.reply } : message;
}

export function isStreamNameInUse(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE;
}

export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * Maps a nats.js failure to a BusError with the same code the in-memory bus would raise. Errors
 * with no bus meaning are returned unchanged, so nothing is hidden.
 */
export function toBusError(err: unknown, target?: string): Error {
  if (err instanceof BusError) return err;
  const options = { cause: err, target };
  if (err instanceof TimeoutError) return new BusError("timeout", `timed out${about(target)}`, options);
  if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
    return new BusError("no_responders", `no responders are listening${about(target)}`, options);
  }
  if (err instanceof ClosedConnectionError || err instanceof DrainingConnectionError) {
    return new BusError("closed", "the bus is closed", options);
  }
  // nats.js fails requests in flight with these texts when the connection closes or drops.
  if (err instanceof RequestError && /connection closed/i.test(err.message)) {
    return new BusError("closed", "the bus is closed", options);
  }
  if (err instanceof RequestError && /disconnect/i.test(err.message)) {
    return new BusError("disconnected", `the connection dropped${about(target)}`, options);
  }
  // nats.js turns a JetStream publish nobody answered into this (the class is not exported).
  if (err instanceof Error && err.name === "JetStreamNotEnabled") {
    return new BusError("not_found", `no stream captures${about(target)} (or JetStream is off)`, options);
  }
  if (err instanceof JetStreamApiError) {
    if (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound) {
      return new BusError("not_found", `${err.message}${about(target)}`, options);
    }
    if (err.code === STREAM_SUBJECT_OVERLAP) return new BusError("invalid_argument", err.message, options);
  }
  if (err instanceof InvalidSubjectError || err instanceof InvalidArgumentError) {
    return new BusError("invalid_argument", err.message, options);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** The promise, with its failure mapped by `toBusError`. */
export function mapErrors<T>(promise: Promise<T>, target?: string): Promise<T> {
  return promise.catch((err: unknown) => {
    throw toBusError(err, target);
  });
}

function about(target: string | undefined): string {
  return target === undefined ? "" : ` on ${target}`;
}
