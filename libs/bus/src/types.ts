/**
 * The bus port: what services need from NATS, and nothing more. Two adapters implement it — real
 * NATS with JetStream (`connectNatsBus`) and an in-process one for embedded mode
 * (`createMemoryBus`) — and both pass the same contract suite, so a service never knows which one
 * it runs on.
 */

/** Message headers at the interface boundary: one value per name, names compared exactly. */
export type Headers = Record<string, string>;

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers;
  /** Where a reply goes, when the sender made a request. Answer with `Bus.respond`. */
  readonly reply?: string;
}

export type MessageHandler = (message: BusMessage) => void | Promise<void>;

export interface PublishOptions {
  headers?: Headers;
}

export interface SubscribeOptions {
  /** Subscribers sharing a queue name split the messages: each goes to one of them. */
  queue?: string;
}

export interface RequestOptions {
  timeoutMs: number;
  headers?: Headers;
}

export interface Subscription {
  readonly subject: string;
  readonly queue: string | undefined;
  /** Stops delivery at once; handlers already running finish on their own. */
  unsubscribe(): void;
  /** Stops delivery after messages already received, and resolves when their handlers have finished. */
  drain(): Promise<void>;
  /** Resolves when the subscription has ended, for whatever reason. */
  closed(): Promise<void>;
}

export interface KvOptions {
  /**
   * Values kept per key on the server (1–64). Only the latest is readable through this interface.
   * @default 1
   */
  history?: number;
  /** Entries disappear this long after their last write. Absent: they never expire. */
  ttlMs?: number;
}

export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** Bucket-wide, strictly increasing: the revision `update` compares against. */
  readonly revision: number;
}

export interface KvChange extends KvEntry {
  /** A `delete` carries an empty value. */
  readonly operation: "put" | "delete";
}

/** An async iterable of changes; `stop()` ends the iteration. */
export interface KvWatch extends AsyncIterable<KvChange> {
  stop(): void;
}

/**
 * A key-value bucket. Keys are NATS-style: letters, digits and `-/_=.`, with `.` separating tokens
 * so `watch`/`keys` filters can use `*` (one token) and `>` (the rest).
 */
export interface KeyValue {
  readonly bucket: string;
  get(key: string): Promise<KvEntry | undefined>;
  /** Writes unconditionally and returns the new revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Writes only if the key has no value (never written, deleted or expired); else `exists`. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Writes only if `revision` is the key's latest (compare-and-set); else `wrong_revision`. */
  update(key: string, value: Uint8Array, revision: number): Promise<number>;
  delete(key: string): Promise<void>;
  /** Keys holding a value, optionally matching a filter such as `plugins.>`. */
  keys(filter?: string): AsyncIterable<string>;
  /**
   * Current values of the matching keys first (deleted keys left out), then every change as it
   * happens. Resolves once the watch is established: later writes are never missed.
   */
  watch(filter?: string): Promise<KvWatch>;
}

export interface ObjectInfo {
  readonly name: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the content. */
  readonly sha256: string;
  readonly modifiedMs: number;
}

/** Whole-blob storage for artifacts too big for a KV value (plugin wasm). */
export interface ObjectStore {
  readonly bucket: string;
  /** Stores `data` under `name`, replacing any previous object of that name. */
  put(name: string, data: Uint8Array): Promise<ObjectInfo>;
  get(name: string): Promise<Uint8Array | undefined>;
  info(name: string): Promise<ObjectInfo | undefined>;
  /** Returns whether there was an object to delete. */
  delete(name: string): Promise<boolean>;
}

export interface StreamOptions {
  /** Messages older than this are dropped. Absent: kept until `maxMessages` pushes them out. */
  maxAgeMs?: number;
  /** The oldest messages are dropped beyond this many. Absent: no limit. */
  maxMessages?: number;
  /** Only the newest this many messages of each subject are kept (1: the latest per subject). */
  maxMessagesPerSubject?: number;
}

export interface PersistOptions {
  headers?: Headers;
  /** Publishing twice with the same id within two minutes stores the message once. */
  messageId?: string;
}

export interface PersistAck {
  readonly stream: string;
  readonly seq: number;
  /** True when `messageId` matched an earlier message and nothing new was stored. */
  readonly duplicate: boolean;
}

export interface ConsumerOptions {
  /** Only messages whose subject matches (wildcards allowed). Absent: the whole stream. */
  filterSubject?: string;
  /**
   * How long a delivered message may stay unacknowledged before it is delivered again.
   * @default 30000
   */
  ackWaitMs?: number;
  /** Deliveries of one message before the consumer gives up on it. Absent: unlimited. */
  maxDeliver?: number;
  /**
   * Where a consumer created now starts: every stored message, only those stored after it, or
   * those stored from a point in time on. Applies at creation; an existing consumer keeps its place.
   * @default "all"
   */
  deliverPolicy?: "all" | "new" | { readonly startTimeMs: number };
  /** Messages delivered and not yet acknowledged, at most; redeliveries still go out. Absent: server default. */
  maxAckPending?: number;
  /** The server deletes the consumer after this long without a puller. Absent: kept for ever. */
  inactiveThresholdMs?: number;
}

export interface ConsumerInfo {
  /** Messages matching the consumer not yet delivered. */
  readonly pending: number;
  /** Messages delivered and not yet acknowledged. */
  readonly ackPending: number;
  /** Of those, the ones delivered more than once. */
  readonly redelivered: number;
}

export interface StreamMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers;
  /** Sequence in the stream. */
  readonly seq: number;
  /** 1 on the first delivery, 2 on the first redelivery, … */
  readonly deliveryCount: number;
  ack(): void;
  /** Asks for redelivery, after `delayMs` if given (counts as a delivery toward `maxDeliver`). */
  nak(delayMs?: number): void;
  /** Never deliver this message to this consumer again. */
  term(): void;
  /** Restarts the ack wait: the message is still being worked on. */
  working(): void;
}

/** Messages pulled from a durable consumer; `stop()` ends the iteration. */
export interface ConsumerMessages extends AsyncIterable<StreamMessage> {
  stop(): Promise<void>;
}

export interface ConsumeOptions {
  /**
   * Messages fetched ahead of the one being handled. Each one's ack wait starts when it is
   * fetched, so keep this small for slow handlers.
   * @default 1
   */
  prefetch?: number;
}

/** A durable consumer: its position and pending acks survive restarts; several pullers share it. */
export interface DurableConsumer {
  readonly stream: string;
  readonly name: string;
  consume(options?: ConsumeOptions): Promise<ConsumerMessages>;
  info(): Promise<ConsumerInfo>;
}

export interface Bus extends AsyncDisposable {
  /** The namespace this bus was opened for; derive names with `subjects()` / `storageNames()`. */
  readonly namespace: string;
  /** Publishes without waiting; a closed bus throws `closed`. */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): void;
  /** Calls `handler` for each message; a throwing handler is logged and the subscription goes on. */
  subscribe(subject: string, options: SubscribeOptions, handler: MessageHandler): Subscription;
  /** Sends a request and resolves with the first reply; fails with `timeout` or `no_responders`. */
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage>;
  /** Replies to a request; returns false when the message expects no reply. */
  respond(message: BusMessage, data: Uint8Array, options?: PublishOptions): boolean;
  /** Resolves when everything published so far has reached the server (subscriptions included). */
  flush(): Promise<void>;

  /** Opens a key-value bucket, creating it on first use; options of an existing bucket are kept. */
  kv(bucket: string, options?: KvOptions): Promise<KeyValue>;
  /** Opens an object store bucket, creating it on first use. */
  objects(bucket: string): Promise<ObjectStore>;
  /** Creates the stream, or adds missing subjects to an existing one. */
  stream(name: string, subjects: readonly string[], options?: StreamOptions): Promise<void>;
  /** Publishes into a stream and waits for it to be stored; `not_found` when no stream captures it. */
  persist(subject: string, data: Uint8Array, options?: PersistOptions): Promise<PersistAck>;
  /** Creates the durable consumer, or updates an existing one to these options. */
  consumer(stream: string, durableName: string, options?: ConsumerOptions): Promise<DurableConsumer>;
  /** The state of a durable consumer, or undefined when it (or its stream) does not exist. */
  consumerInfo(stream: string, durableName: string): Promise<ConsumerInfo | undefined>;

  /** Lets running handlers and pending publishes finish, then closes. */
  drain(): Promise<void>;
  /** Closes at once; idempotent. Pending requests fail with `closed`. */
  close(): Promise<void>;
  /** Resolves when the bus has closed, with the error that closed it if one did. */
  closed(): Promise<void | Error>;
}

/** The subset of a pino logger the bus writes to. */
export interface BusLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
