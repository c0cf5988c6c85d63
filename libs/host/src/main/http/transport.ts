/**
 * One HTTP request on the wire, without redirects (those are decided by the exchange, hop by hop).
 * The undici implementation connects through the network guard, reads the whole body up to a cap,
 * and decompresses gzip the way Go's transport does when it asked for it itself.
 */
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { request } from "undici";
import { createNetworkAgent } from "../network-guard.js";
import { firstHeaderValues } from "./headers.js";

export interface Hop {
  readonly url: URL;
  /** Upper-case method. */
  readonly method: string;
  /** Canonical keys, one value each. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | undefined;
}

export interface HopResponse {
  readonly status: number;
  /** Canonical keys, first value of each. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface HopOptions {
  /** Without it, connections to local addresses fail with BlockedAddressError. */
  readonly allowLocalNetwork: boolean;
  readonly signal: AbortSignal;
}

/**
 * Sends one request and reads its whole response. Failures before the response headers reject with
 * the client's error; failures while reading the body reject with ResponseBodyError or
 * ResponseTooLargeError.
 */
export type HttpTransport = (hop: Hop, options: HopOptions) => Promise<HopResponse>;

/** The response body could not be read completely; `cause` says why. */
export class ResponseBodyError extends Error {
  override readonly name = "ResponseBodyError";
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** The response body is larger than the host accepts. */
export class ResponseTooLargeError extends Error {
  override readonly name = "ResponseTooLargeError";
  constructor(readonly limitBytes: number) {
    super(`response body exceeds the limit of ${limitBytes} bytes`);
  }
}

export interface UndiciTransportOptions {
  /** Largest body accepted, counted after decompression. */
  readonly maxResponseBytes: number;
  readonly lookup?: LookupFunction | undefined;
}

export function createUndiciTransport(options: UndiciTransportOptions): HttpTransport {
  // One pooled dispatcher per side of the local-network rule; the rule is applied when connecting.
  const open = createNetworkAgent({ allowLocalNetwork: true, lookup: options.lookup });
  const guarded = createNetworkAgent({ allowLocalNetwork: false, lookup: options.lookup });

  return async (hop, { allowLocalNetwork, signal }) => {
    // Go asks for gzip and decompresses transparently unless the request chose an encoding or a range.
    const addsGzip = hop.method !== "HEAD" && hop.headers["Accept-Encoding"] === undefined && hop.headers["Range"] === undefined;
    const headers: Record<string, string> = { ...hop.headers };
    if (addsGzip) headers["Accept-Encoding"] = "gzip";
    // Go turns credentials in the URL into Basic auth unless the request has its own; undici would drop them.
    if ((hop.url.username || hop.url.password) && headers["Authorization"] === undefined) {
      headers["Authorization"] = basicAuthorization(hop.url);
    }
    const response = await request(hop.url, {
      method: hop.method,
      headers,
      body: hop.body,
      dispatcher: allowLocalNetwork ? open : guarded,
      signal,
    });
    const received = firstHeaderValues(response.headers);
    const gzipped = addsGzip && received["Content-Encoding"]?.toLowerCase() === "gzip";
    if (gzipped) {
      delete received["Content-Encoding"];
      delete received["Content-Length"];
    }
    const declared = Number(received["Content-Length"]);
    // A HEAD answer declares the length of a body it does not carry.
    if (hop.method !== "HEAD" && !gzipped && Number.isFinite(declared) && declared > options.maxResponseBytes) {
      // Destroying an unread body reports an abort; nobody is listening for it any more.
      response.body.on("error", () => {});
      response.body.destroy();
      throw new ResponseTooLargeError(options.maxResponseBytes);
    }
    const body = await readBody(response.body, gzipped, options.maxResponseBytes);
    return { status: response.statusCode, headers: received, body };
  };
}

function basicAuthorization(url: URL): string {
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  return `Basic ${Buffer.from(`${decode(url.username)}:${decode(url.password)}`).toString("base64")}`;
}

async function readBody(body: Readable, gzipped: boolean, limitBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  let compressedSize = 0;
  const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > limitBytes) throw new ResponseTooLargeError(limitBytes);
      chunks.push(chunk);
    }
  };
  try {
    if (gzipped) {
      const counted = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
        for await (const chunk of source) {
          compressedSize += chunk.length;
          yield chunk;
        }
      };
      await pipeline(body, counted, createGunzip(), collect);
    } else {
      await pipeline(body, collect);
    }
  } catch (err) {
    if (err instanceof ResponseTooLargeError) throw err;
    // Go reads an empty gzip-labelled body as empty; zlib calls it a truncated stream.
    if (gzipped && compressedSize === 0) return new Uint8Array(0);
    throw new ResponseBodyError(err);
  }
  return Buffer.concat(chunks, size);
}
