/**
 * Now-playing events of one plugin's durable consumer: the latest per user wins. The stream keeps
 * only the newest event of each user; here an event still waiting when a newer one of its user
 * arrives is dropped, and one older than the rest of its track is dropped instead of shown late.
 * Failures are logged and not retried, as in Navidrome: a later event replaces this one anyway.
 */
import { decodeScrobbleEvent, type Bus, type StreamMessage } from "@tonearm/bus";
import type { bus as busProto } from "@tonearm/proto";
import type { Logger, Metrics } from "@tonearm/telemetry";
import { deliverNowPlaying, nowPlayingIsStale, type ScrobblerCall } from "./deliver.js";

export interface NowPlayingDeliveriesOptions {
  readonly bus: Bus;
  readonly plugin: string;
  readonly call: ScrobblerCall;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly now?: () => number;
}

interface UserSlot {
  next: { message: StreamMessage; event: busProto.ScrobbleEvent } | undefined;
  running: Promise<void> | undefined;
}

export class NowPlayingDeliveries {
  readonly #options: NowPlayingDeliveriesOptions;
  readonly #users = new Map<string, UserSlot>();
  readonly #now: () => number;

  constructor(options: NowPlayingDeliveriesOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  handle(message: StreamMessage): void {
    const { plugin, logger, metrics } = this.#options;
    let event: busProto.ScrobbleEvent;
    try {
      event = decodeScrobbleEvent(this.#options.bus.namespace, message);
    } catch (err) {
      message.term();
      metrics?.scrobbleEvents.inc({ plugin, outcome: "malformed" });
      logger.warn({ plugin, subject: message.subject, err: err instanceof Error ? err.message : String(err) }, "now-playing event dropped: malformed");
      return;
    }
    let slot = this.#users.get(event.userId);
    if (slot === undefined) {
      slot = { next: undefined, running: undefined };
      this.#users.set(event.userId, slot);
    }
    if (slot.next !== undefined) {
      slot.next.message.ack();
      metrics?.scrobbleEvents.inc({ plugin, outcome: "superseded" });
    }
    slot.next = { message, event };
    slot.running ??= this.#drain(event.userId, slot);
  }

  /** Resolves when no delivery runs. */
  async settled(): Promise<void> {
    await Promise.all([...this.#users.values()].map((slot) => slot.running ?? Promise.resolve()));
  }

  async #drain(user: string, slot: UserSlot): Promise<void> {
    const { plugin, logger, metrics } = this.#options;
    for (let pending = slot.next; pending !== undefined; pending = slot.next) {
      slot.next = undefined;
      const { message, event } = pending;
      let outcome: string;
      try {
        const now = this.#now();
        outcome = nowPlayingIsStale(event, now) ? "stale" : await deliverNowPlaying(this.#options.call, event, now);
      } catch (err) {
        outcome = "failed";
        logger.warn({ plugin, user, err: err instanceof Error ? err.message : String(err) }, "now playing failed");
      }
      message.ack();
      metrics?.scrobbleEvents.inc({ plugin, outcome: `now_playing_${outcome}` });
    }
    slot.running = undefined;
    this.#users.delete(user);
  }
}
