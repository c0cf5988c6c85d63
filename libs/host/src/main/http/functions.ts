/** `http` permission: the `get` … `options` imports, one per method (ABI.md §1.6, §11.1). */
import type { LookupFunction } from "node:net";
import { httpHost } from "@tonearm/proto";
import { asyncHandler } from "../../define.js";
import type { MainContext, MainFunctions } from "../../host.js";
import { exchange, type ExchangeSettings } from "./exchange.js";
import { createUndiciTransport, type HttpTransport } from "./transport.js";

export interface HttpFunctionsOptions {
  /** Timeout of a whole call (redirects and body included) when the plugin passes `timeout_ms` 0. @default 10000 */
  readonly timeoutMs?: number;
  /** Largest response body handed to a plugin, after decompression; larger ones fail with an `error`. @default 10 MiB */
  readonly maxResponseBytes?: number;
  /** Resolver for every connection (the local-network rule checks what it answers). @default dns.lookup */
  readonly lookup?: LookupFunction;
  /**
   * Sends each hop instead of the network (permissions, redirects and errors still apply); the
   * plugin test kit answers from canned responses with it. @default undici through the network guard
   */
  readonly transport?: HttpTransport;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** `env` import name → HTTP method. */
const METHODS = {
  get: "GET",
  post: "POST",
  put: "PUT",
  delete: "DELETE",
  patch: "PATCH",
  head: "HEAD",
  options: "OPTIONS",
} as const;

export function createHttpFunctions(options: HttpFunctionsOptions = {}): MainFunctions {
  const settings: ExchangeSettings = {
    transport:
      options.transport ??
      createUndiciTransport({
        maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        lookup: options.lookup,
      }),
    defaultTimeoutMs: options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS,
  };
  const functions: Record<string, MainFunctions[string]> = {};
  for (const [name, method] of Object.entries(METHODS)) {
    functions[name] = asyncHandler<MainContext, typeof httpHost.HttpRequestSchema, typeof httpHost.HttpResponseSchema>(
      name,
      { input: httpHost.HttpRequestSchema, output: httpHost.HttpResponseSchema },
      (ctx, request) => exchange(method, request, ctx.permissions.http, settings, ctx.signal),
    );
  }
  return functions;
}
