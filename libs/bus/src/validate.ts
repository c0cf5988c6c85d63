/**
 * Name rules NATS enforces, checked up front by both transports so the in-memory one rejects
 * exactly what a server would, with the same `invalid_argument` error.
 */
import { BusError } from "./errors.js";
import type { Headers } from "./types.js";

// Whitespace and control characters split or break the NATS text protocol.
const BAD_SUBJECT_CHAR = /[\s\p{Cc}]/u;
const KV_KEY = /^[-/_=.A-Za-z0-9]+$/;
const KV_FILTER = /^[-/_=.*>A-Za-z0-9]+$/;
const RESOURCE_NAME = /^[-_A-Za-z0-9]+$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function invalid(message: string, target: string): BusError {
  return new BusError("invalid_argument", message, { target });
}

/** A subject to publish to: non-empty tokens, no wildcards. */
export function checkSubject(subject: string): void {
  checkTokens(subject, "subject");
  for (const token of subject.split(".")) {
    if (token === "*" || token === ">") throw invalid(`subject "${subject}" must not contain wildcards`, subject);
  }
}

/** A subject to subscribe to: `*` may stand for one token, `>` for the rest (last token only). */
export function checkPattern(pattern: string): void {
  checkTokens(pattern, "subject");
  const tokens = pattern.split(".");
  tokens.forEach((token, i) => {
    if (token === ">" && i !== tokens.length - 1) throw invalid(`">" must be the last token of "${pattern}"`, pattern);
  });
}

function checkTokens(subject: string, what: string): void {
  if (subject === "") throw invalid(`${what} must not be empty`, subject);
  if (BAD_SUBJECT_CHAR.test(subject)) throw invalid(`${what} "${subject}" contains whitespace or a control character`, subject);
  if (subject.split(".").includes("")) throw invalid(`${what} "${subject}" has an empty token`, subject);
}

export function checkKvKey(key: string): void {
  if (!KV_KEY.test(key) || key.split(".").includes("")) {
    throw invalid(`invalid key "${key}": use letters, digits and -/_=. with no empty tokens`, key);
  }
}

export function checkKvFilter(filter: string): void {
  if (!KV_FILTER.test(filter)) throw invalid(`invalid key filter "${filter}"`, filter);
  checkPattern(filter);
}

/** Bucket, stream and consumer names: letters, digits, `-` and `_`. */
export function checkResourceName(kind: string, name: string): void {
  if (!RESOURCE_NAME.test(name)) throw invalid(`invalid ${kind} name "${name}": use letters, digits, - and _`, name);
}

/** Consumer names may also hold `=`, the escape character of plugin id tokens. */
export function checkConsumerName(name: string): void {
  if (!/^[-_=A-Za-z0-9]+$/.test(name)) throw invalid(`invalid consumer name "${name}": use letters, digits, -, _ and =`, name);
}

export function checkHeaders(headers: Headers | undefined): void {
  if (!headers) return;
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw invalid(`invalid header name "${name}"`, name);
    if (/[\r\n]/.test(value)) throw invalid(`header "${name}" has a line break in its value`, name);
  }
}

export function checkTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw invalid(`timeout must be a positive number of milliseconds, got ${timeoutMs}`, String(timeoutMs));
  }
}
