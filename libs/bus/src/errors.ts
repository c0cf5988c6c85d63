/**
 * Failures of the bus itself (not of a plugin call). Both transports raise the same codes for the
 * same situations, so callers branch on `code` and never on a driver's message text.
 */
import { TonearmError } from "@tonearm/abi";

export const BusErrorCode = {
  /** A request got no reply within its timeout. */
  Timeout: "timeout",
  /** A request reached no subscriber at all (NATS answers with a 503 status at once). */
  NoResponders: "no_responders",
  /** The bus was closed or is draining. */
  Closed: "closed",
  /** The connection to the server dropped while the operation was in flight. */
  Disconnected: "disconnected",
  /** `create` on a key that holds a value. */
  Exists: "exists",
  /** `update` with a revision that is not the key's latest. */
  WrongRevision: "wrong_revision",
  /** The stream or consumer named does not exist, or no stream captures a subject. */
  NotFound: "not_found",
  /** A subject, key, bucket, header or option the server would reject. */
  InvalidArgument: "invalid_argument",
} as const;
export type BusErrorCode = (typeof BusErrorCode)[keyof typeof BusErrorCode];

/** An error of the bus. */
export class BusError extends TonearmError {
  readonly code: BusErrorCode;
  /** The subject, key or resource the failed operation named, when there is one. */
  readonly target: string | undefined;

  constructor(code: BusErrorCode, message: string, options?: ErrorOptions & { target?: string }) {
    super(message, options);
    this.code = code;
    this.target = options?.target;
  }

  /** True when `err` is a BusError with the given code. */
  static is(err: unknown, code: BusErrorCode): err is BusError {
    return err instanceof BusError && err.code === code;
  }
}
