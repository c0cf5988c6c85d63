/**
 * The in-process bus of embedded mode: the NATS semantics Tonearm relies on (wildcards, queue
 * groups, request-reply with no-responders, KV, object store, durable consumers) without a server.
 * Messages are delivered asynchronously and copied, as over a socket, so code that works here does
 * not depend on shared buffers or same-tick delivery.
 */
import { randomUUID } from "node:crypto";
import { BusError } from "../errors.js";
import { HandlerRunner } from "../handlers.js";
import { stderrLogger } from "../logger.js";
import { checkNamespace } from "../subjects.js";
import type {
  Bus,
  BusLogger,
  BusMessage,
  ConsumerInfo,
  ConsumerOptions,
  DurableConsumer,
  Headers,
  KeyValue,
  KvOptions,
  MessageHandler,
  ObjectStore,
  PersistAck,
  PersistOptions,
  PublishOptions,
  RequestOptions,
  StreamOptions,
  SubscribeOptions,
  Subscription,
} from "../types.js";
import {
  checkConsumerName,
  checkHeaders,
  checkPattern,
  checkResourceName,
  checkSubject,
  checkTimeout,
} from "../validate.js";
import { MemoryKeyValue } from "./kv.js";
import { patternsOverlap, subjectMatches } from "./match.js";
import { MemoryObjectStore } from "./objects.js";
import { MemoryStream, memoryDurableConsumer } from "./streams.js";

export interface MemoryBusOptions {
  /** @default "default" */
  namespace?: string;
  /** Where handler failures go. Default: JSON lines on stderr. */
  logger?: BusLogger;
}

type State = "open" | "draining" | "closed";

class MemorySubscription implements Subscription {
  #active = true;
  readonly #runner: HandlerRunner;
  readonly #ended: Promise<void>;
  #end!: () => void;

  constructor(
    readonly subject: string,
    readonly queue: string | undefined,
    handler: MessageHandler,
    logger: BusLogger,
    private readonly detach: (sub: MemorySubscription) => void,
  ) {
    this.#runner = new HandlerRunner(handler, logger, subject);
    this.#ended = new Promise((resolve) => (this.#end = resolve));
  }

  get active(): boolean {
    return this.#active;
  }

  deliver(message: BusMessage): void {
    queueMicrotask(() => {
      if (this.#active) this.#runner.run(message);
    });
  }

  unsubscribe(): void {
    if (!this.#active) return;
    this.#active = false;
    this.detach(this);
    this.#end();
  }

  async drain(): Promise<void> {
    if (this.#active) {
      this.detach(this);
      // Messages already routed here sit in the microtask queue; let them reach the handler first.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#active = false;
    }
    await this.#runner.settled();
    this.#end();
  }

  closed(): Promise<void> {
    return this.#ended;
  }
}

class MemoryBus implements Bus {
  #state: State = "open";
  readonly #subscriptions = new Set<MemorySubscription>();
  readonly #queueTurns = new Map<string, number>();
  readonly #replies = new Map<string, (reply: BusMessage) => void>();
  readonly #pendingRequests = new Set<(err: BusError) => void>();
  readonly #buckets = new Map<string, MemoryKeyValue>();
  readonly #stores = new Map<string, MemoryObjectStore>();
  readonly #streams = new Map<string, MemoryStream>();
  readonly #closed: Promise<void>;
  #markClosed!: () => void;
  readonly #ensureOpen = (): void => this.#checkOpen();

  constructor(
    readonly namespace: string,
    private readonly logger: BusLogger,
  ) {
    this.#closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    this.#checkOpen();
    checkSubject(subject);
    checkHeaders(options.headers);
    this.#route(message(subject, data, options.headers));
  }

  subscribe(subject: string, options: SubscribeOptions, handler: MessageHandler): Subscription {
    if (this.#state !== "open") throw closedError();
    checkPattern(subject);
    if (options.queue !== undefined) checkSubject(options.queue);
    const sub = new MemorySubscription(subject, options.queue, handler, this.logger, (s) =>
      this.#subscriptions.delete(s),
    );
    this.#subscriptions.add(sub);
    return sub;
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const inbox = `_INBOX.${randomUUID()}`;
    return new Promise<BusMessage>((resolve, reject) => {
      this.#checkOpen();
      checkSubject(subject);
      checkHeaders(options.headers);
      checkTimeout(options.timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.#replies.delete(inbox);
        this.#pendingRequests.delete(fail);
      };
      const fail = (err: BusError): void => {
        finish();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new BusError("timeout", `request to ${subject} timed out after ${options.timeoutMs} ms`, { target: subject })),
        options.timeoutMs,
      );
      this.#replies.set(inbox, (reply) => {
        finish();
        resolve(reply);
      });
      this.#pendingRequests.add(fail);
      if (!this.#route(message(subject, data, options.headers, inbox))) {
        fail(new BusError("no_responders", `no responders are listening on ${subject}`, { target: subject }));
      }
    });
  }

  respond(request: BusMessage, data: Uint8Array, options: PublishOptions = {}): boolean {
    if (request.reply === undefined) return false;
    this.publish(request.reply, data, options);
    return true;
  }

  flush(): Promise<void> {
    // Delivery is queued as microtasks; one macrotask later everything published so far has landed.
    return this.#state === "closed" ? Promise.reject(closedError()) : new Promise((resolve) => setImmediate(resolve));
  }

  kv(bucket: string, options: KvOptions = {}): Promise<KeyValue> {
    return this.#open(() => {
      checkResourceName("bucket", bucket);
      let kv = this.#buckets.get(bucket);
      if (!kv) {
        kv = new MemoryKeyValue(bucket, options, this.#ensureOpen);
        this.#buckets.set(bucket, kv);
      }
      return kv;
    });
  }

  objects(bucket: string): Promise<ObjectStore> {
    return this.#open(() => {
      checkResourceName("object store", bucket);
      let store = this.#stores.get(bucket);
      if (!store) {
        store = new MemoryObjectStore(bucket, this.#ensureOpen);
        this.#stores.set(bucket, store);
      }
      return store;
    });
  }

  stream(name: string, subjects: readonly string[], options: StreamOptions = {}): Promise<void> {
    return this.#open(() => {
      checkResourceName("stream", name);
      if (subjects.length === 0) throw new BusError("invalid_argument", `stream ${name} needs at least one subject`);
      subjects.forEach(checkPattern);
      for (const other of this.#streams.values()) {
        if (other.name === name) continue;
        const clash = subjects.find((s) => other.subjects.some((o) => patternsOverlap(s, o)));
        if (clash !== undefined) {
          throw new BusError("invalid_argument", `subject ${clash} of stream ${name} overlaps stream ${other.name}`, {
            target: clash,
          });
        }
      }
      const existing = this.#streams.get(name);
      if (existing) existing.reconfigure(subjects, options);
      else this.#streams.set(name, new MemoryStream(name, subjects, options));
    });
  }

  persist(subject: string, data: Uint8Array, options: PersistOptions = {}): Promise<PersistAck> {
    return this.#open(() => {
      checkSubject(subject);
      checkHeaders(options.headers);
      const stream = this.#captor(subject);
      if (!stream) throw new BusError("not_found", `no stream captures subject ${subject}`, { target: subject });
      const ack = stream.append(subject, data, options.headers ?? {}, options.messageId);
      if (!ack.duplicate) this.#deliver(message(subject, data, options.headers));
      return ack;
    });
  }

  consumer(streamName: string, durableName: string, options: ConsumerOptions = {}): Promise<DurableConsumer> {
    return this.#open(() => {
      checkResourceName("stream", streamName);
      checkConsumerName(durableName);
      if (options.filterSubject !== undefined) checkPattern(options.filterSubject);
      const stream = this.#streams.get(streamName);
      if (!stream) throw new BusError("not_found", `stream ${streamName} does not exist`, { target: streamName });
      return memoryDurableConsumer(stream.consumer(durableName, options), streamName, this.#ensureOpen);
    });
  }

  consumerInfo(streamName: string, durableName: string): Promise<ConsumerInfo | undefined> {
    return this.#open(() => {
      checkResourceName("stream", streamName);
      checkConsumerName(durableName);
      return this.#streams.get(streamName)?.findConsumer(durableName)?.info();
    });
  }

  async drain(): Promise<void> {
    if (this.#state !== "open") return this.#closed;
    this.#state = "draining";
    await Promise.all([...this.#subscriptions].map((sub) => sub.drain()));
    await this.close();
  }

  close(): Promise<void> {
    if (this.#state === "closed") return this.#closed;
    this.#state = "closed";
    for (const sub of [...this.#subscriptions]) sub.unsubscribe();
    for (const fail of [...this.#pendingRequests]) fail(closedError());
    for (const kv of this.#buckets.values()) kv.close();
    for (const stream of this.#streams.values()) stream.close();
    this.#markClosed();
    return this.#closed;
  }

  closed(): Promise<void> {
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Delivers to a waiting request, streams and subscribers; returns whether anyone took it. */
  #route(msg: BusMessage): boolean {
    const reply = this.#replies.get(msg.subject);
    if (reply) {
      queueMicrotask(() => reply(msg));
      return true;
    }
    this.#captor(msg.subject)?.append(msg.subject, msg.data, msg.headers);
    return this.#deliver(msg);
  }

  /** Every plain subscriber gets the message; each queue group gives it to one member, in turn. */
  #deliver(msg: BusMessage): boolean {
    const groups = new Map<string, MemorySubscription[]>();
    let delivered = false;
    for (const sub of this.#subscriptions) {
      if (!sub.active || !subjectMatches(sub.subject, msg.subject)) continue;
      delivered = true;
      if (sub.queue === undefined) sub.deliver(copy(msg));
      else groups.set(sub.queue, [...(groups.get(sub.queue) ?? []), sub]);
    }
    for (const [queue, members] of groups) {
      const turn = this.#queueTurns.get(queue) ?? 0;
      this.#queueTurns.set(queue, turn + 1);
      (members[turn % members.length] as MemorySubscription).deliver(copy(msg));
    }
    return delivered;
  }

  #captor(subject: string): MemoryStream | undefined {
    for (const stream of this.#streams.values()) if (stream.captures(subject)) return stream;
    return undefined;
  }

  #checkOpen(): void {
    if (this.#state === "closed") throw closedError();
  }

  #open<T>(operation: () => T): Promise<T> {
    // The executor turns a throw into a rejection while still running the operation synchronously.
    return new Promise((resolve) => {
      this.#checkOpen();
      resolve(operation());
    });
  }
}

function message(subject: string, data: Uint8Array, headers: Headers | undefined, reply?: string): BusMessage {
  const msg = { subject, data: data.slice(), headers: { ...headers } };
  return reply === undefined ? msg : { ...msg, reply };
}

function copy(msg: BusMessage): BusMessage {
  return { ...msg, data: msg.data.slice(), headers: { ...msg.headers } };
}

function closedError(): BusError {
  return new BusError("closed", "the bus is closed");
}

/** An in-process bus for embedded mode and tests. */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const namespace = options.namespace ?? "default";
  checkNamespace(namespace);
  return new MemoryBus(namespace, options.logger ?? stderrLogger);
}
