import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo as NatsConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { BusError } from "../errors.js";
import type {
  ConsumeOptions,
  ConsumerInfo,
  ConsumerMessages,
  ConsumerOptions,
  DurableConsumer,
  StreamMessage,
  StreamOptions,
} from "../types.js";
import { fromNatsHeaders, isStreamNameInUse, mapErrors, toBusError } from "./convert.js";
import type { Outbox } from "./outbox.js";

const DEFAULT_ACK_WAIT_MS = 30_000;
const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** Creates the stream, or widens an existing one to the subjects and limits asked for. */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: readonly string[],
  options: StreamOptions,
): Promise<void> {
  // Only limits the caller states; an existing stream keeps the others.
  const limits = {
    ...(options.maxAgeMs === undefined ? {} : { max_age: nanos(options.maxAgeMs) }),
    ...(options.maxMessages === undefined ? {} : { max_msgs: options.maxMessages }),
    ...(options.maxMessagesPerSubject === undefined ? {} : { max_msgs_per_subject: options.maxMessagesPerSubject }),
  };
  try {
    const info = await jsm.streams.info(name).catch((err: unknown) => {
      const mapped = toBusError(err, name);
      if (BusError.is(mapped, "not_found")) return undefined;
      throw mapped;
    });
    if (!info) {
      try {
        await jsm.streams.add({
          name,
          subjects: [...subjects],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          duplicate_window: nanos(DUPLICATE_WINDOW_MS),
          ...limits,
        });
        return;
      } catch (err) {
        // Another process created it between our look and our add: fall through to widening it.
        if (!isStreamNameInUse(err)) throw err;
        return ensureStream(jsm, name, subjects, options);
      }
    }
    const current = info.config.subjects ?? [];
    const merged = [...new Set([...current, ...subjects])];
    const sameLimits =
      (limits.max_age === undefined || info.config.max_age === limits.max_age) &&
      (limits.max_msgs === undefined || info.config.max_msgs === limits.max_msgs) &&
      (limits.max_msgs_per_subject === undefined || info.config.max_msgs_per_subject === limits.max_msgs_per_subject);
    if (merged.length !== current.length || !sameLimits) {
      await jsm.streams.update(name, { subjects: merged, ...limits });
    }
  } catch (err) {
    throw toBusError(err, name);
  }
}

/** Creates the durable pull consumer, or brings an existing one to these options. */
export async function ensureConsumer(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  durableName: string,
  options: ConsumerOptions,
  outbox: Outbox,
): Promise<DurableConsumer> {
  const wanted: Partial<ConsumerConfig> = {
    durable_name: durableName,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    max_deliver: options.maxDeliver ?? -1,
    ...deliverFrom(options.deliverPolicy),
    ...(options.filterSubject === undefined ? {} : { filter_subject: options.filterSubject }),
    ...(options.maxAckPending === undefined ? {} : { max_ack_pending: options.maxAckPending }),
    ...(options.inactiveThresholdMs === undefined ? {} : { inactive_threshold: nanos(options.inactiveThresholdMs) }),
  };
  try {
    const info = await jsm.consumers.info(stream, durableName).catch((err: unknown) => {
      const mapped = toBusError(err, `${stream}/${durableName}`);
      if (BusError.is(mapped, "not_found")) return undefined;
      throw mapped;
    });
    if (!info) await jsm.consumers.add(stream, wanted);
    // nats-server 2.9 refuses any update of a consumer with a start time ("start time can not be
    // updated"), so such a consumer keeps the options it was created with.
    else if (
      info.config.deliver_policy !== DeliverPolicy.StartTime &&
      (info.config.ack_wait !== wanted.ack_wait ||
      info.config.max_deliver !== wanted.max_deliver ||
      info.config.filter_subject !== wanted.filter_subject ||
      (wanted.max_ack_pending !== undefined && info.config.max_ack_pending !== wanted.max_ack_pending) ||
      (wanted.inactive_threshold !== undefined && info.config.inactive_threshold !== wanted.inactive_threshold))
    ) {
      // The deliver policy is the consumer's starting point: never changed once it exists.
      await jsm.consumers.update(stream, durableName, {
        ack_wait: wanted.ack_wait,
        max_deliver: wanted.max_deliver,
        filter_subject: wanted.filter_subject,
        ...(wanted.max_ack_pending === undefined ? {} : { max_ack_pending: wanted.max_ack_pending }),
        ...(wanted.inactive_threshold === undefined ? {} : { inactive_threshold: wanted.inactive_threshold }),
      });
    }
    const consumer = await js.consumers.get(stream, durableName);
    return {
      stream,
      name: durableName,
      consume: async (consumeOptions: ConsumeOptions = {}) => {
        const messages = await mapErrors(
          consumer.consume({ max_messages: consumeOptions.prefetch ?? 1 }),
          `${stream}/${durableName}`,
        );
        return {
          // Not `close()`: that waits for the iteration to read to its end, which never happens
          // while the reader is busy with a message or not reading at all.
          stop: () => {
            messages.stop();
            return Promise.resolve();
          },
          async *[Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
            try {
              for await (const m of messages) yield toStreamMessage(m, outbox);
            } finally {
              messages.stop();
            }
          },
        } satisfies ConsumerMessages;
      },
      info: async () => {
        const info = await jsm.consumers.info(stream, durableName).catch((err: unknown) => {
          throw toBusError(err, `${stream}/${durableName}`);
        });
        return toConsumerInfo(info);
      },
    };
  } catch (err) {
    throw toBusError(err, `${stream}/${durableName}`);
  }
}

/** The consumer's state, or undefined when it or its stream does not exist. */
export async function findConsumerInfo(jsm: JetStreamManager, stream: string, durableName: string): Promise<ConsumerInfo | undefined> {
  try {
    return toConsumerInfo(await jsm.consumers.info(stream, durableName));
  } catch (err) {
    const mapped = toBusError(err, `${stream}/${durableName}`);
    if (BusError.is(mapped, "not_found")) return undefined;
    throw mapped;
  }
}

function toConsumerInfo(info: NatsConsumerInfo): ConsumerInfo {
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
}

function deliverFrom(policy: ConsumerOptions["deliverPolicy"]): Partial<ConsumerConfig> {
  if (policy === "new") return { deliver_policy: DeliverPolicy.New };
  if (policy === undefined || policy === "all") return { deliver_policy: DeliverPolicy.All };
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(policy.startTimeMs).toISOString() };
}

/** Acknowledgements go out with the turn's other sends (`Outbox`); the rarer answers at once. */
function toStreamMessage(m: JsMsg, outbox: Outbox): StreamMessage {
  return {
    subject: m.subject,
    data: m.data,
    headers: fromNatsHeaders(m.headers),
    seq: m.seq,
    deliveryCount: m.info.deliveryCount,
    ack: () => outbox.add(m.subject, () => m.ack()),
    nak: (delayMs?: number) => m.nak(delayMs),
    term: () => m.term(),
    working: () => m.working(),
  };
}
