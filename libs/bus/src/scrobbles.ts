/**
 * Scrobble events on JetStream, the part every process shares: the streams, how a music server
 * publishes an event, how a consumer reads one, dead letters, and the per-plugin delivery status.
 *
 *   tonearm.<ns>.scrobble.submit.<user>       stream tonearm_<ns>_scrobbles (kept `retentionMs`)
 *   tonearm.<ns>.scrobble.nowplaying.<user>   stream tonearm_<ns>_nowplaying (latest per user)
 *   tonearm.<ns>.scrobble-dead.<plugin>.<user> stream tonearm_<ns>_scrobbles_dead
 *
 * Each Scrobbler plugin reads through its own durable consumers (`scrobbler_<plugin>`,
 * `nowplaying_<plugin>`), so every plugin gets every event whatever the others do.
 */
import { create, fromBinary, fromJsonString, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { bus as busProto } from "@tonearm/proto";
import { CallContentType, CallHeader } from "./call-protocol.js";
import { BusError } from "./errors.js";
import { PluginState, recordCapabilities, type PluginRecord } from "./plugin-catalog.js";
import { ScrobbleKind, storageNames, subjects } from "./subjects.js";
import type { Bus, Headers, PersistAck, StreamMessage } from "./types.js";

export type ScrobbleEvent = busProto.ScrobbleEvent;

/** Headers a dead letter carries next to the original event. */
export const DeadLetterHeader = {
  Reason: "Tonearm-Dead-Reason",
  Plugin: "Tonearm-Dead-Plugin",
  Deliveries: "Tonearm-Dead-Deliveries",
  Subject: "Tonearm-Dead-Subject",
} as const;

export interface ScrobbleStreamOptions {
  /** How long submit events and dead letters are kept, for late consumers, backfill and replay. */
  readonly retentionMs: number;
}

/** Default retention: a week of submits, as long as a parked consumer is kept. */
export const DEFAULT_SCROBBLE_RETENTION_MS = 7 * 24 * 3600_000;
/** Now-playing events are worth nothing after the longest track. */
const NOW_PLAYING_RETENTION_MS = 3600_000;

/** Creates the three scrobble streams, or brings existing ones to these limits. Idempotent. */
export async function ensureScrobbleStreams(bus: Bus, options: ScrobbleStreamOptions): Promise<void> {
  const names = storageNames(bus.namespace);
  const subject = subjects(bus.namespace);
  await bus.stream(names.scrobbleStream, [subject.scrobbles(ScrobbleKind.Submit)], { maxAgeMs: options.retentionMs });
  await bus.stream(names.nowPlayingStream, [subject.scrobbles(ScrobbleKind.NowPlaying)], {
    maxAgeMs: NOW_PLAYING_RETENTION_MS,
    maxMessagesPerSubject: 1,
  });
  await bus.stream(names.deadScrobbleStream, [subject.allDeadScrobbles], { maxAgeMs: options.retentionMs });
}

export type ScrobbleEventInit = MessageInitShape<typeof busProto.ScrobbleEventSchema>;

/**
 * Publishes an event as a music server does: on its kind's subject for its user, with its event id
 * as the JetStream message id so a retried publish is stored once.
 */
export async function publishScrobble(bus: Bus, init: ScrobbleEventInit): Promise<PersistAck> {
  const event = create(busProto.ScrobbleEventSchema, init);
  const kind = scrobbleKindOf(event);
  if (event.userId === "") throw new BusError("invalid_argument", "a scrobble event needs a user_id");
  if (event.eventId === "") throw new BusError("invalid_argument", "a scrobble event needs an event_id, its idempotency key");
  return bus.persist(subjects(bus.namespace).scrobble(kind, event.userId), toBinary(busProto.ScrobbleEventSchema, event), {
    messageId: event.eventId,
    headers: { [CallHeader.ContentType]: CallContentType.Protobuf },
  });
}

function scrobbleKindOf(event: ScrobbleEvent): ScrobbleKind {
  switch (event.kind) {
    case busProto.ScrobbleEvent_Kind.SUBMIT:
      return ScrobbleKind.Submit;
    case busProto.ScrobbleEvent_Kind.NOW_PLAYING:
      return ScrobbleKind.NowPlaying;
    default:
      throw new BusError("invalid_argument", "a scrobble event's kind is KIND_SUBMIT or KIND_NOW_PLAYING");
  }
}

/**
 * Reads an event as published: protobuf, or protobuf JSON when its Content-Type says so. The
 * subject is the authority for kind and user, so an event cannot claim another user's subject.
 */
export function decodeScrobbleEvent(namespace: string, message: Pick<StreamMessage, "subject" | "data" | "headers">): ScrobbleEvent {
  const target = subjects(namespace).parseScrobble(message.subject);
  if (target === undefined) throw new BusError("invalid_argument", `"${message.subject}" is not a scrobble subject`);
  const contentType = message.headers[CallHeader.ContentType] ?? CallContentType.Protobuf;
  let event: ScrobbleEvent;
  try {
    if (contentType.startsWith(CallContentType.Json)) {
      event = fromJsonString(busProto.ScrobbleEventSchema, new TextDecoder("utf-8", { fatal: true }).decode(message.data));
    } else if (contentType.startsWith(CallContentType.Protobuf)) {
      event = fromBinary(busProto.ScrobbleEventSchema, message.data);
    } else {
      throw new Error(`unsupported Content-Type ${contentType}`);
    }
  } catch (err) {
    throw new BusError("invalid_argument", `not a ScrobbleEvent: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  event.kind = target.kind === ScrobbleKind.Submit ? busProto.ScrobbleEvent_Kind.SUBMIT : busProto.ScrobbleEvent_Kind.NOW_PLAYING;
  event.userId = target.user;
  return event;
}

/** The headers of a dead letter for `message`, which `plugin` gave up on. */
export function deadLetterHeaders(message: StreamMessage, plugin: string, reason: string): Headers {
  return {
    ...message.headers,
    [DeadLetterHeader.Reason]: reason.replace(/[\r\n]+/g, " ").slice(0, 1024),
    [DeadLetterHeader.Plugin]: plugin,
    [DeadLetterHeader.Deliveries]: String(message.deliveryCount),
    [DeadLetterHeader.Subject]: message.subject,
  };
}

/** Whether a record's manifest lists the Scrobbler capability. */
export function isScrobbler(record: PluginRecord): boolean {
  return recordCapabilities(record).includes("Scrobbler");
}

export interface ScrobbleStatus {
  readonly plugin: string;
  /** Submit events not yet taken by the plugin: not delivered yet, or delivered and not acknowledged. */
  readonly pending: number;
  /** Of those, events delivered more than once (the plugin failed them, or a worker died). */
  readonly redelivered: number;
  /** Events given up on, waiting in the dead-letter stream for a replay. */
  readonly deadLettered: number;
  /** The plugin is gone or not READY: its consumer keeps its place until the retention period ends. */
  readonly parked: boolean;
  /** No consumer exists (yet) for the plugin. */
  readonly consumer: boolean;
}

/** Delivery status of every Scrobbler plugin among `records` (tombstones included, as parked). */
export async function scrobbleStatus(bus: Bus, records: Iterable<PluginRecord>): Promise<ScrobbleStatus[]> {
  const names = storageNames(bus.namespace);
  const scrobblers = [...records].filter(isScrobbler).sort((a, b) => a.id.localeCompare(b.id));
  return Promise.all(
    scrobblers.map(async (record): Promise<ScrobbleStatus> => {
      const [live, dead] = await Promise.all([
        bus.consumerInfo(names.scrobbleStream, names.scrobbleConsumer(record.id)),
        bus.consumerInfo(names.deadScrobbleStream, names.deadScrobbleConsumer(record.id)),
      ]);
      return {
        plugin: record.id,
        pending: live ? live.pending + live.ackPending : 0,
        redelivered: live?.redelivered ?? 0,
        deadLettered: dead ? dead.pending + dead.ackPending : 0,
        parked: record.state !== PluginState.READY,
        consumer: live !== undefined,
      };
    }),
  );
}
