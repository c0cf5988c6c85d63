/**
 * Submits of one plugin's durable consumer, delivered in order per user.
 *
 * Each user has a lane: its events run one after the other. A failed event is nak'ed with Navidrome's
 * backoff (initial delay doubling up to the maximum) and its lane waits for the redelivery: later
 * events of that user are held (kept from redelivery with in-progress acks) until it succeeds or is
 * dead-lettered after `maxDeliveries`. Other users' lanes go on meanwhile. The delivery count lives
 * on the server, so a worker that dies does not reset anybody's retries.
 */
import { deadLetterHeaders, decodeScrobbleEvent, subjects, type Bus, type StreamMessage } from "@tonearm/bus";
import type { ScrobbleSettings } from "@tonearm/config";
import type { bus as busProto } from "@tonearm/proto";
import type { Logger, Metrics } from "@tonearm/telemetry";
import { deliverSubmit, type ScrobblerCall } from "./deliver.js";

export interface SubmitDeliveriesOptions {
  readonly bus: Bus;
  readonly plugin: string;
  readonly call: ScrobblerCall;
  readonly settings: Pick<ScrobbleSettings, "maxDeliveries" | "retryInitialMs" | "retryMaxMs">;
  /** The consumer's ack wait: held events are marked in progress well within it. */
  readonly ackWaitMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
}

interface Pending {
  readonly message: StreamMessage;
  readonly event: busProto.ScrobbleEvent;
}

interface Lane {
  tail: Promise<void>;
  /** Events queued on `tail` and not finished. */
  queued: number;
  /** The failed event whose redelivery the lane waits for. */
  waitingFor: number | undefined;
  /** Later events of the user, kept until the failed one is resolved. */
  readonly held: Map<number, Pending>;
}

export class SubmitDeliveries {
  readonly #options: SubmitDeliveriesOptions;
  readonly #lanes = new Map<string, Lane>();
  readonly #heartbeat: NodeJS.Timeout;
  #running = 0;
  #idle: (() => void) | undefined;

  constructor(options: SubmitDeliveriesOptions) {
    this.#options = options;
    this.#heartbeat = setInterval(() => this.#markHeldInProgress(), Math.max(100, options.ackWaitMs / 3));
    this.#heartbeat.unref();
  }

  /** Takes one message from the consumer; returns at once, the delivery runs in its lane. */
  handle(message: StreamMessage): void {
    let event: busProto.ScrobbleEvent;
    try {
      event = decodeScrobbleEvent(this.#options.bus.namespace, message);
    } catch (err) {
      void this.#track(this.#deadLetter(message, `malformed event: ${describe(err)}`));
      return;
    }
    const lane = this.#lane(event.userId);
    if (lane.waitingFor !== undefined) {
      if (message.seq === lane.waitingFor) lane.waitingFor = undefined;
      else if (message.seq > lane.waitingFor) {
        lane.held.set(message.seq, { message, event });
        return;
      }
    }
    this.#enqueue(event.userId, lane, { message, event });
  }

  /** Resolves when no delivery runs; held events stay unacknowledged for the next owner. */
  settled(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#idle = resolve));
  }

  close(): void {
    clearInterval(this.#heartbeat);
  }

  #lane(user: string): Lane {
    let lane = this.#lanes.get(user);
    if (lane === undefined) {
      lane = { tail: Promise.resolve(), queued: 0, waitingFor: undefined, held: new Map() };
      this.#lanes.set(user, lane);
    }
    return lane;
  }

  #enqueue(user: string, lane: Lane, pending: Pending): void {
    lane.queued++;
    const delivered = lane.tail.then(() => this.#deliver(lane, pending));
    lane.tail = this.#track(delivered)
      .catch((err: unknown) => this.#options.logger.error({ plugin: this.#options.plugin, err: describe(err) }, "scrobble delivery broke"))
      .finally(() => {
        lane.queued--;
        if (lane.queued === 0 && lane.waitingFor === undefined && lane.held.size === 0) this.#lanes.delete(user);
      });
  }

  async #deliver(lane: Lane, pending: Pending): Promise<void> {
    const { message, event } = pending;
    // An earlier event of this user failed after this one was queued: wait behind it.
    if (lane.waitingFor !== undefined && message.seq > lane.waitingFor) {
      lane.held.set(message.seq, pending);
      return;
    }
    const { plugin, settings, logger, metrics } = this.#options;
    try {
      const outcome = await deliverSubmit(this.#options.call, event);
      message.ack();
      metrics?.scrobbleEvents.inc({ plugin, outcome });
    } catch (err) {
      const attempt = message.deliveryCount;
      if (attempt >= settings.maxDeliveries) {
        await this.#deadLetter(message, describe(err));
      } else {
        const delayMs = Math.min(settings.retryInitialMs * 2 ** (attempt - 1), settings.retryMaxMs);
        lane.waitingFor = message.seq;
        message.nak(delayMs);
        metrics?.scrobbleEvents.inc({ plugin, outcome: "retried" });
        logger.warn({ plugin, user: event.userId, eventId: event.eventId, attempt, retryInMs: delayMs, err: describe(err) }, "scrobble failed; retrying later");
        return;
      }
    }
    this.#releaseHeld(event.userId, lane);
  }

  #releaseHeld(user: string, lane: Lane): void {
    if (lane.waitingFor !== undefined || lane.held.size === 0) return;
    const held = [...lane.held.entries()].sort(([a], [b]) => a - b);
    lane.held.clear();
    for (const [, pending] of held) this.#enqueue(user, lane, pending);
  }

  async #deadLetter(message: StreamMessage, reason: string): Promise<void> {
    const { bus, plugin, logger, metrics } = this.#options;
    const user = subjects(bus.namespace).parseScrobble(message.subject)?.user ?? "unknown";
    try {
      await bus.persist(subjects(bus.namespace).deadScrobble(plugin, user), message.data, { headers: deadLetterHeaders(message, plugin, reason) });
      message.ack();
      metrics?.scrobbleEvents.inc({ plugin, outcome: "dead_lettered" });
      logger.error({ plugin, user, seq: message.seq, deliveries: message.deliveryCount, reason }, "scrobble moved to the dead-letter stream");
    } catch (err) {
      // Nothing is lost: the event stays in the plugin's consumer and comes back.
      message.nak(this.#options.settings.retryInitialMs);
      logger.error({ plugin, user, seq: message.seq, err: describe(err) }, "could not dead-letter a scrobble; it will be retried");
    }
  }

  #markHeldInProgress(): void {
    for (const lane of this.#lanes.values()) for (const { message } of lane.held.values()) message.working();
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#running++;
    return work.finally(() => {
      if (--this.#running === 0) {
        this.#idle?.();
        this.#idle = undefined;
      }
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
