/**
 * Error codes of a plugin call, shared by the runtime, the bus and the CLI. They travel as data
 * (a header, a field), never as parsed message text.
 */
import { TonearmError } from "./tonearm-error.js";

export const CallErrorCode = {
  NotFound: "not_found",
  NotImplemented: "not_implemented",
  Timeout: "timeout",
  Unavailable: "unavailable",
  PluginError: "plugin_error",
  LoadError: "load_error",
  BadRequest: "bad_request",
  Forbidden: "forbidden",
} as const;
export type CallErrorCode = (typeof CallErrorCode)[keyof typeof CallErrorCode];

const CODES = new Set<string>(Object.values(CallErrorCode));
export function isCallErrorCode(code: string): code is CallErrorCode {
  return CODES.has(code);
}

/** Sentinel error strings a plugin returns (Go `api.ErrNotFound`, `api.ErrNotImplemented`). */
export const PLUGIN_NOT_FOUND = "plugin:not_found";
export const PLUGIN_NOT_IMPLEMENTED = "plugin:not_implemented";

/** A failed plugin call. */
export class CallError extends TonearmError {
  readonly code: CallErrorCode;

  constructor(code: CallErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** Maps a plugin's returned error string: the two sentinels get their codes, anything else is a plugin error. */
  static fromPluginError(text: string): CallError {
    if (text === PLUGIN_NOT_FOUND) return new CallError(CallErrorCode.NotFound, text);
    if (text === PLUGIN_NOT_IMPLEMENTED) return new CallError(CallErrorCode.NotImplemented, text);
    return new CallError(CallErrorCode.PluginError, text);
  }

  /** Plain data for crossing a thread or the wire. */
  toJSON(): { code: CallErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
