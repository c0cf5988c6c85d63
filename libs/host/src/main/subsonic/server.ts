/**
 * The Subsonic server plugins' `call`s are forwarded to. Every request authenticates with the
 * configured account by token (`t = md5(password + s)`, a fresh salt `s` each time), so the
 * password never travels.
 */
import { createHash, randomBytes } from "node:crypto";
import { encodeGoQuery, pathEscape, toByteString, type GoQuery } from "./go-url.js";

export interface SubsonicServerOptions {
  /** Base URL, e.g. `https://music.example.com` or `http://navidrome:4533/navidrome`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Longest body accepted. @default 16 MiB */
  readonly maxResponseBytes?: number;
}

export interface SubsonicReply {
  readonly status: number;
  readonly statusText: string;
  /** The body as UTF-8 text. */
  readonly body: string;
}

/** The server could not be reached or its answer could not be read. */
export class SubsonicRequestError extends Error {
  override readonly name = "SubsonicRequestError";
}

/** Parameters that would authenticate as someone else, or clash with token auth (OpenSubsonic error 43). */
const AUTH_PARAMETERS = ["u", "p", "t", "s", "apiKey"] as const;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export class SubsonicServer {
  readonly #restUrl: string;
  readonly #username: string;
  readonly #password: string;
  readonly #fetch: typeof fetch;
  readonly #maxResponseBytes: number;

  constructor(options: SubsonicServerOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new TypeError(`subsonicapi: ${JSON.stringify(options.url)} is not a URL`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError(`subsonicapi: ${JSON.stringify(options.url)} is not an http(s) URL`);
    }
    this.#restUrl = `${base.origin}${base.pathname.replace(/\/+$/, "")}/rest/`;
    this.#username = options.username;
    this.#password = options.password;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /**
   * `GET <base>/rest/<endpoint>?<query>` as the configured account. `endpoint` is a single path
   * segment and the query's keys and values are byte strings (see go-url.ts).
   */
  async get(endpoint: string, query: GoQuery, signal: AbortSignal): Promise<SubsonicReply> {
    const params: GoQuery = new Map(query);
    for (const name of AUTH_PARAMETERS) params.delete(name);
    const salt = randomBytes(8).toString("hex");
    params.set("u", [toByteString(this.#username)]);
    params.set("s", [salt]);
    params.set("t", [createHash("md5").update(this.#password + salt, "utf8").digest("hex")]);

    let response: Response;
    try {
      response = await this.#fetch(`${this.#restUrl}${pathEscape(endpoint)}?${encodeGoQuery(params)}`, {
        headers: { accept: "application/json" },
        signal,
      });
    } catch (error) {
      throw new SubsonicRequestError(reasonOf(error), { cause: error });
    }
    return { status: response.status, statusText: response.statusText, body: await this.#readBody(response) };
  }

  async #readBody(response: Response): Promise<string> {
    const tooLarge = (): SubsonicRequestError => new SubsonicRequestError(`response larger than ${this.#maxResponseBytes} bytes`);
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > this.#maxResponseBytes) {
      await response.body?.cancel();
      throw tooLarge();
    }
    if (!response.body) return "";
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > this.#maxResponseBytes) {
          await reader.cancel();
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof SubsonicRequestError) throw error;
      throw new SubsonicRequestError(reasonOf(error), { cause: error });
    }
    return Buffer.concat(chunks).toString("utf8");
  }
}

/** fetch reports "fetch failed" and keeps the useful part (ECONNREFUSED, a TLS error, ...) in `cause`. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
