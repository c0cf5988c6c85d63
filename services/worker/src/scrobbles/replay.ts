/**
 * Re-drives a plugin's dead letters: each is delivered again (IsAuthorized, then Scrobble) through
 * the workers' call subjects; delivered ones leave the dead-letter stream's consumer, failed ones
 * stay for a later replay. Runs from any process connected to the bus, the CLI included.
 */
import { findMethod } from "@tonearm/abi";
import {
  DeadLetterHeader,
  callPlugin,
  decodeScrobbleEvent,
  storageNames,
  subjects,
  type Bus,
  type StreamMessage,
} from "@tonearm/bus";
import { deliverSubmit, type ScrobblerCall } from "./deliver.js";

export interface ReplayReport {
  readonly plugin: string;
  readonly delivered: number;
  /** Delivered, but the plugin did not authorize the user or the track is not scrobbled. */
  readonly dropped: number;
  readonly failed: readonly { readonly seq: number; readonly user: string; readonly reason: string }[];
}

export interface ReplayOptions {
  /** Deadline of each plugin call. @default 30000 */
  readonly callTimeoutMs?: number;
  /** Failed letters are hidden from this replay for this long before they can be replayed again. @default 60000 */
  readonly retryHiddenMs?: number;
}

/** Replays the dead letters `plugin` has now; letters arriving meanwhile wait for the next replay. */
export async function replayDeadScrobbles(bus: Bus, plugin: string, options: ReplayOptions = {}): Promise<ReplayReport> {
  const names = storageNames(bus.namespace);
  const hiddenMs = options.retryHiddenMs ?? 60_000;
  const report: Mutable<ReplayReport> = { plugin, delivered: 0, dropped: 0, failed: [] };
  const info = await bus.consumerInfo(names.deadScrobbleStream, names.deadScrobbleConsumer(plugin));
  // Letters a failed replay hid for a while count as acknowledgement-pending.
  const letters = info === undefined ? 0 : info.pending + info.ackPending;
  if (letters === 0) return report;
  const consumer = await bus.consumer(names.deadScrobbleStream, names.deadScrobbleConsumer(plugin), {
    filterSubject: subjects(bus.namespace).pluginDeadScrobbles(plugin),
  });
  const call = busScrobblerCall(bus, plugin, options.callTimeoutMs ?? 30_000);
  const seen = new Set<number>();
  const messages = await consumer.consume();
  // Letters counted as pending may expire meanwhile: stop once none has come for a while.
  let idle = setTimeout(() => void messages.stop(), IDLE_STOP_MS);
  try {
    for await (const letter of messages) {
      clearTimeout(idle);
      if (seen.has(letter.seq)) letter.nak(hiddenMs);
      else {
        seen.add(letter.seq);
        await replayOne(bus, call, letter, report, hiddenMs);
      }
      if (seen.size >= letters) break;
      idle = setTimeout(() => void messages.stop(), IDLE_STOP_MS);
    }
  } finally {
    clearTimeout(idle);
    await messages.stop();
  }
  return report;
}

const IDLE_STOP_MS = 2_000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] };

async function replayOne(bus: Bus, call: ScrobblerCall, letter: StreamMessage, report: Mutable<ReplayReport>, hiddenMs: number): Promise<void> {
  const original = { subject: letter.headers[DeadLetterHeader.Subject] ?? "", data: letter.data, headers: letter.headers };
  const user = subjects(bus.namespace).parseScrobble(original.subject)?.user ?? "";
  try {
    const outcome = await deliverSubmit(call, decodeScrobbleEvent(bus.namespace, original));
    letter.ack();
    if (outcome === "delivered") report.delivered++;
    else report.dropped++;
  } catch (err) {
    letter.nak(hiddenMs);
    report.failed.push({ seq: letter.seq, user, reason: err instanceof Error ? err.message : String(err) });
  }
}

/** A Scrobbler call through the workers' call subjects. */
export function busScrobblerCall(bus: Bus, plugin: string, timeoutMs: number): ScrobblerCall {
  return (method, request) => {
    if (findMethod("Scrobbler", method) === undefined) throw new Error(`Scrobbler.${method} is not a method`);
    return callPlugin(bus, bus.namespace, { plugin, capability: "Scrobbler", method, request, timeoutMs, caller: "scrobbles-replay" });
  };
}
