import { Message } from "./wire";

/** Error string a host maps to "not found" (Go's `api.ErrNotFound`). */
export const ERR_NOT_FOUND = "plugin:not_found";
/** Error string a host maps to "not implemented" (Go's `api.ErrNotImplemented`). */
export const ERR_NOT_IMPLEMENTED = "plugin:not_implemented";

/**
 * What a capability method returns: a response message or an error string. AssemblyScript has no
 * exceptions, so errors are values. An empty response (`Result.empty()`) and a response whose
 * fields all hold defaults both reach the host as an empty message.
 */
export class Result {
  constructor(
    /** The response, or null for an empty one or an error. */
    public readonly message: Message | null,
    /** The error string, or null on success. */
    public readonly error: string | null,
  ) {}

  /** A successful response. */
  static ok(message: Message): Result {
    return new Result(message, null);
  }

  /** A successful response with no fields set. */
  static empty(): Result {
    return new Result(null, null);
  }

  /** The `plugin:not_found` error: this plugin has no answer (the host tries the next agent). */
  static notFound(): Result {
    return new Result(null, ERR_NOT_FOUND);
  }

  /** The `plugin:not_implemented` error: this plugin does not offer the method. */
  static notImplemented(): Result {
    return new Result(null, ERR_NOT_IMPLEMENTED);
  }

  /** Any other failure; the host receives `message` as the error text. */
  static error(message: string): Result {
    return new Result(null, message);
  }

  get isError(): bool {
    return this.error !== null;
  }
}
