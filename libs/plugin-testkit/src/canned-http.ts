/**
 * Canned answers for a plugin's `http` host calls. The plugin's requests still go through the real
 * host service (its manifest's URL permissions, redirects, Go's header and error texts); only the
 * network is replaced: each request is answered by the route that matches it, and recorded.
 */
import { canonicalHeaderKey, type Hop, type HopOptions, type HopResponse, type HttpTransport } from "@tonearm/host";

/** What a route answers. Every field is optional: `{}` is an empty 200. */
export interface CannedResponse {
  /** @default 200 */
  readonly status?: number;
  /** Response headers; keys reach the plugin in Go's canonical form (`content-type` → `Content-Type`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body as text (sent as UTF-8) or bytes. */
  readonly body?: string | Uint8Array;
  /** A body serialised as JSON; sets `Content-Type: application/json` unless `headers` has one. */
  readonly json?: unknown;
  /**
   * Fail the request instead of answering, as a network failure would: the plugin gets a response
   * with status 0 and `error` = `Get "<url>": <this text>`.
   */
  readonly error?: string;
}

/** Answers a request, or returns undefined to leave it to the routes after it. */
export type CannedHandler = (request: RecordedRequest) => CannedResponse | undefined | Promise<CannedResponse | undefined>;

/** A request a plugin made, as it left the host (after permission checks, one per redirect hop). */
export class RecordedRequest {
  constructor(
    /** Upper-case method. */
    readonly method: string,
    readonly url: URL,
    /** Header keys in Go's canonical form, one value each. */
    readonly headers: Readonly<Record<string, string>>,
    /** Empty for methods that send none (only POST, PUT and PATCH carry a body). */
    readonly body: Uint8Array,
  ) {}

  /** The body decoded as UTF-8. */
  get text(): string {
    return new TextDecoder().decode(this.body);
  }

  /** The body parsed as JSON; throws when it is not JSON. */
  json(): unknown {
    return JSON.parse(this.text);
  }

  /** `GET https://host/path?query`, for test failure messages. */
  toString(): string {
    return `${this.method} ${this.url.href}`;
  }
}

interface Route {
  readonly method: string | undefined;
  readonly url: string;
  readonly prefix: boolean;
  readonly handler: CannedHandler;
}

const METHOD = /^[A-Z]+$/;

/** The error text of a request no route answers (after `Get "<url>": `). */
export const NO_CANNED_ANSWER = "no canned answer";

/**
 * Routes from URL patterns to canned answers, and a record of every request. Hand it to
 * `startPlugin({ http })`, or serve it on a loopback port with `listen` for a whole Tonearm
 * process to use.
 *
 * ```ts
 * const http = new CannedHttp()
 *   .on("GET https://api.example.com/v1/artists/*", (req) => ({ json: { name: req.url.searchParams.get("q") } }))
 *   .on("https://api.example.com/v1/down", { status: 503, body: "try later" });
 * ```
 */
export class CannedHttp {
  readonly #routes: Route[] = [];
  readonly #requests: RecordedRequest[] = [];
  readonly #unanswered: RecordedRequest[] = [];

  /**
   * Adds a route. `pattern` is `[METHOD ]URL`: without a method any method matches; a URL ending in
   * `*` matches every URL starting with the rest (query included), otherwise the whole URL must be
   * equal. Routes are asked in the order they were added, so put specific ones before a catch-all;
   * a handler that returns undefined passes the request on to the next route.
   */
  on(pattern: string, answer: CannedResponse | CannedHandler): this {
    const space = pattern.indexOf(" ");
    const head = space > 0 ? pattern.slice(0, space) : "";
    const method = METHOD.test(head) ? head : undefined;
    const url = method ? pattern.slice(space + 1).trim() : pattern.trim();
    const prefix = url.endsWith("*");
    const base = prefix ? url.slice(0, -1) : url;
    try {
      new URL(prefix ? `${base}x` : base);
    } catch {
      throw new TypeError(`CannedHttp.on: "${pattern}" is not "[METHOD ]URL" with an absolute URL`);
    }
    const handler: CannedHandler = typeof answer === "function" ? answer : () => answer;
    this.#routes.push({ method, url: prefix ? base : new URL(base).href, prefix, handler });
    return this;
  }

  /** Every request the plugin made that reached this fake, oldest first (redirect hops included). */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** The requests no route answered; they failed with {@link NO_CANNED_ANSWER}. */
  get unanswered(): readonly RecordedRequest[] {
    return this.#unanswered;
  }

  /** Requests whose URL starts with `prefix` (and of `method`, when given). */
  requestsTo(prefix: string, method?: string): RecordedRequest[] {
    return this.#requests.filter((r) => r.url.href.startsWith(prefix) && (method === undefined || r.method === method));
  }

  /** Forgets the recorded requests; routes stay. */
  clearRequests(): void {
    this.#requests.length = 0;
    this.#unanswered.length = 0;
  }

  /** Answers one request: the first matching route that answers, else undefined. Records it. */
  async answer(request: RecordedRequest): Promise<CannedResponse | undefined> {
    this.#requests.push(request);
    const href = request.url.href;
    for (const route of this.#routes) {
      if (route.method !== undefined && route.method !== request.method) continue;
      if (route.prefix ? !href.startsWith(route.url) : href !== route.url) continue;
      const response = await route.handler(request);
      if (response !== undefined) return response;
    }
    this.#unanswered.push(request);
    return undefined;
  }

  /** The host transport that answers from these routes; `startPlugin` installs it. */
  get transport(): HttpTransport {
    return (hop, options) => this.#send(hop, options);
  }

  async #send(hop: Hop, options: HopOptions): Promise<HopResponse> {
    options.signal.throwIfAborted();
    const request = new RecordedRequest(hop.method, new URL(hop.url.href), { ...hop.headers }, hop.body ?? new Uint8Array(0));
    const answered = await this.answer(request);
    options.signal.throwIfAborted();
    if (answered === undefined) throw new Error(`${NO_CANNED_ANSWER} for ${request.method} ${request.url.href}`);
    if (answered.error !== undefined) throw new Error(answered.error);
    const response = responseParts(answered);
    return { ...response, body: hop.method === "HEAD" ? new Uint8Array(0) : response.body };
  }
}

/** Status, canonical headers (with Content-Type and Content-Length filled in) and body bytes of an answer. */
export function responseParts(answer: CannedResponse): HopResponse {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(answer.headers ?? {})) headers[canonicalHeaderKey(key)] = value;
  let body: Uint8Array;
  if (answer.json !== undefined) {
    body = new TextEncoder().encode(JSON.stringify(answer.json));
    headers["Content-Type"] ??= "application/json";
  } else if (typeof answer.body === "string") {
    body = new TextEncoder().encode(answer.body);
    headers["Content-Type"] ??= "text/plain; charset=utf-8";
  } else {
    body = answer.body ?? new Uint8Array(0);
  }
  headers["Content-Length"] ??= String(body.length);
  return { status: answer.status ?? 200, headers, body };
}
