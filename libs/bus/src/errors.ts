/**
 * Failures of the bus itself (not of a plugin call). Both transports raise the same codes for the
 * same situations, so callers branch on `code` and never on a driver's message text.
 */
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

const isBusError = Symbol.for("tonearm.BusError");

/**
 * An error of the bus. `instanceof` works across realms (worker threads, vm contexts) because it
 * checks a registered symbol rather than the prototype chain.
 */
export class BusError extends Error {
  readonly code: BusErrorCode;
  /** The subject, key or resource the failed operation named, when there is one. */
  readonly target: string | undefined;

  constructor(code: BusErrorCode, message: string, options?: ErrorOptions & { target?: string }) {
    super(message, options);
    this.name = "BusError";
    this.code = code;
    this.target = options?.target;
    Object.defineProperty(this, isBusError, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): value is BusError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[isBusError] === true;
  }

  /** True when `err` is a BusError with the given code. */
  static is(err: unknown, code: BusErrorCode): err is BusError {
    return err instanceof BusError && err.code === code;
  }
}
