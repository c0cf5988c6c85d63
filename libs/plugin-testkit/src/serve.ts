/**
 * The same canned answers on a loopback HTTP port, for tests that run a whole Tonearm process
 * (`tonearm start`, `tonearm call`) and point a plugin's config at a stand-in upstream.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { canonicalHeaderKey } from "@tonearm/host";
import { NO_CANNED_ANSWER, RecordedRequest, responseParts, type CannedHttp } from "./canned-http.js";

export interface ServedHttp {
  /** `http://127.0.0.1:<port>`: what stands in for the origin. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `http` on 127.0.0.1 as if it were `origin`: a request for `/path?query` is routed as
 * `<origin>/path?query` and recorded in `http.requests`. Unanswered requests get a 502 whose body
 * says so; a canned `error` closes the connection without an answer.
 */
export async function serveCannedHttp(http: CannedHttp, origin: string): Promise<ServedHttp> {
  const base = new URL(origin);
  const server = createServer((req, res) => {
    void answer(http, base, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(http: CannedHttp, base: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[canonicalHeaderKey(key)] = Array.isArray(value) ? (value[0] ?? "") : value;
  }
  const method = (req.method ?? "GET").toUpperCase();
  const request = new RecordedRequest(method, new URL(req.url ?? "/", base), headers, new Uint8Array(Buffer.concat(chunks)));
  try {
    const canned = await http.answer(request);
    if (canned === undefined) {
      res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
      res.end(`${NO_CANNED_ANSWER} for ${request.toString()}`);
      return;
    }
    if (canned.error !== undefined) {
      res.destroy();
      return;
    }
    const { status, headers: out, body } = responseParts(canned);
    res.writeHead(status, out);
    res.end(method === "HEAD" ? undefined : body);
  } catch (err) {
    res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    res.end(`canned handler failed: ${(err as Error).message}`);
  }
}
