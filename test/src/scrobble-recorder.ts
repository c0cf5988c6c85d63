/**
 * The HTTP endpoint the `recording_scrobbler` fixture reports to: one tab-separated line per
 * NowPlaying or Scrobble it receives (kind, user id, username, track id, timestamp, position), on
 * `/record/<plugin id>`. Plugins in `failing` get 503 answers, which the fixture returns as errors.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedScrobble {
  readonly plugin: string;
  readonly kind: "scrobble" | "nowplaying";
  readonly user: string;
  readonly username: string;
  readonly track: string;
  readonly timestamp: number;
  readonly position: number;
}

export class ScrobbleRecorder {
  readonly received: ReceivedScrobble[] = [];
  readonly failing = new Set<string>();
  #server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const plugin = decodeURIComponent((request.url ?? "").split("/")[2] ?? "");
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        if (this.failing.has(plugin)) {
          response.writeHead(503).end();
          return;
        }
        const [kind, user, username, track, timestamp, position] = body.split("\t");
        this.received.push({
          plugin,
          kind: kind as ReceivedScrobble["kind"],
          user: user ?? "",
          username: username ?? "",
          track: track ?? "",
          timestamp: Number(timestamp),
          position: Number(position),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** The endpoint a plugin with this id reports to: its `endpoint` config value. */
  endpoint(plugin: string): string {
    return `http://127.0.0.1:${this.port}/record/${encodeURIComponent(plugin)}`;
  }

  of(plugin: string, kind: ReceivedScrobble["kind"] = "scrobble"): ReceivedScrobble[] {
    return this.received.filter((r) => r.plugin === plugin && r.kind === kind);
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}
