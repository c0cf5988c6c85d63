/**
 * The bus on a real NATS server (nats.js v3): core pub/sub and request-reply, JetStream streams and
 * durable pull consumers, KV and object store. Resources are created idempotently on first use, so
 * every process of a cluster can call `kv()`/`stream()`/`consumer()` at startup.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { InvalidArgumentError, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
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
import { openNatsConnection, type NatsCredentials } from "./connect.js";
import { isStreamNameInUse, mapErrors, toBusError, toBusMessage, toNatsHeaders } from "./convert.js";
import { NatsKeyValue } from "./kv.js";
import { NatsObjectStore } from "./objects.js";
import { Outbox } from "./outbox.js";
import { ensureConsumer, ensureStream, findConsumerInfo } from "./streams.js";

/** Where and how to connect; the credentials fields are in `NatsCredentials`. */
export interface NatsBusOptions extends NatsCredentials {
  /** `nats://host:port`, or several for a cluster. */
  servers: string | readonly string[];
  /** Connection name shown by the server's monitoring (e.g. `tonearm-worker-<host>`). */
  name: string;
  namespace: string;
  /** Where connection changes and handler failures go. Default: warnings and errors as JSON on stderr. */
  logger?: BusLogger;
  /**
   * Pause between reconnect attempts.
   * @default 2000
   */
  reconnectTimeWaitMs?: number;
  /**
   * Keep trying when the server is unreachable at startup (services), instead of failing at once
   * with `disconnected` (command-line clients). Once connected, reconnects never give up.
   * @default true
   */
  waitForServer?: boolean;
}

class NatsBus implements Bus {
  readonly #outbox: Outbox;
  readonly #kvs = new Map<string, Promise<KeyValue>>();
  readonly #stores = new Map<string, Promise<ObjectStore>>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #js: JetStreamClient;
  #jsm: Promise<JetStreamManager> | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    readonly namespace: string,
    private readonly nc: NatsConnection,
    private readonly logger: BusLogger,
  ) {
    this.#js = jetstream(nc);
    this.#outbox = new Outbox(logger);
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    const headers = this.#checkedSend(subject, options);
    try {
      this.nc.publish(subject, data, { headers });
    } catch (err) {
      throw toBusError(err, subject);
    }
  }

  /** Refuses a send to `subject` that cannot go out (closed bus, bad subject or headers); its headers for nats.js. */
  #checkedSend(subject: string, options: { readonly headers?: PublishOptions["headers"] }): MsgHdrs | undefined {
    this.#checkOpen();
    checkSubject(subject);
    checkHeaders(options.headers);
    return toNatsHeaders(options.headers);
  }

  subscribe(subject: string, options: SubscribeOptions, handler: MessageHandler): Subscription {
    if (this.#closing || this.nc.isClosed()) throw closedError();
    checkPattern(subject);
    if (options.queue !== undefined) checkSubject(options.queue);
    const runner = new HandlerRunner(handler, this.logger, subject);
    const sub = this.nc.subscribe(subject, {
      queue: options.queue,
      callback: (err, msg) => {
        if (err) this.logger.warn({ err, subject }, "subscription error");
        else runner.run(toBusMessage(msg));
      },
    });
    const subscription: Subscription = {
      subject,
      queue: options.queue,
      unsubscribe: () => sub.unsubscribe(),
      drain: async () => {
        if (!sub.isClosed()) await mapErrors(sub.drain(), subject);
        await runner.settled();
      },
      closed: () => sub.closed.then(() => undefined),
    };
    this.#subscriptions.add(subscription);
    void sub.closed.then(() => this.#subscriptions.delete(subscription));
    return subscription;
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const headers = this.#checkedSend(subject, options);
    checkTimeout(options.timeoutMs);
    try {
      const reply = await this.nc.request(subject, data, { timeout: options.timeoutMs, headers });
      return toBusMessage(reply);
    } catch (err) {
      const mapped = toBusError(err, subject);
      if (BusError.is(mapped, "timeout")) {
        throw new BusError("timeout", `request to ${subject} timed out after ${options.timeoutMs} ms`, {
          target: subject,
          cause: err,
        });
      }
      throw mapped;
    }
  }

  respond(request: BusMessage, data: Uint8Array, options: PublishOptions = {}): boolean {
    if (request.reply === undefined) return false;
    // Everything a publish would refuse is refused here, at once, as `publish` would.
    const headers = this.#checkedSend(request.reply, options);
    const maxPayload = this.nc.info?.max_payload;
    if (maxPayload !== undefined && data.length + headerBytes(headers) > maxPayload) {
      throw toBusError(InvalidArgumentError.format("payload", "max_payload size exceeded"), request.reply);
    }
    const subject = request.reply;
    this.#outbox.add(subject, () => this.nc.publish(subject, data, { headers }));
    return true;
  }

  async flush(): Promise<void> {
    this.#checkOpen();
    this.#outbox.flush();
    await mapErrors(this.nc.flush());
  }

  kv(bucket: string, options: KvOptions = {}): Promise<KeyValue> {
    return this.#cached(this.#kvs, bucket, async () => {
      checkResourceName("bucket", bucket);
      const kvm = new Kvm(this.#js);
      const limits = { history: options.history ?? 1, ...(options.ttlMs ? { ttl: options.ttlMs } : {}) };
      const kv = await kvm.create(bucket, limits).catch(async (err: unknown) => {
        if (!isStreamNameInUse(err)) throw err;
        // The bucket exists with other limits (another version or caller made it): use it as it is.
        this.logger.warn({ err, bucket }, "KV bucket exists with different options; using it unchanged");
        return kvm.open(bucket);
      });
      return new NatsKeyValue(bucket, kv);
    });
  }

  objects(bucket: string): Promise<ObjectStore> {
    return this.#cached(this.#stores, bucket, async () => {
      checkResourceName("object store", bucket);
      const store = await new Objm(this.#js).create(bucket);
      return new NatsObjectStore(bucket, store);
    });
  }

  async stream(name: string, subjects: readonly string[], options: StreamOptions = {}): Promise<void> {
    this.#checkOpen();
    checkResourceName("stream", name);
    if (subjects.length === 0) throw new BusError("invalid_argument", `stream ${name} needs at least one subject`);
    subjects.forEach(checkPattern);
    await ensureStream(await this.#manager(), name, subjects, options);
  }

  async persist(subject: string, data: Uint8Array, options: PersistOptions = {}): Promise<PersistAck> {
    const headers = this.#checkedSend(subject, options);
    try {
      const ack = await this.#js.publish(subject, data, {
        headers,
        ...(options.messageId === undefined ? {} : { msgID: options.messageId }),
      });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw toBusError(err, subject);
    }
  }

  async consumer(stream: string, durableName: string, options: ConsumerOptions = {}): Promise<DurableConsumer> {
    this.#checkOpen();
    checkResourceName("stream", stream);
    checkConsumerName(durableName);
    if (options.filterSubject !== undefined) checkPattern(options.filterSubject);
    return ensureConsumer(this.#js, await this.#manager(), stream, durableName, options, this.#outbox);
  }

  async consumerInfo(stream: string, durableName: string): Promise<ConsumerInfo | undefined> {
    this.#checkOpen();
    checkResourceName("stream", stream);
    checkConsumerName(durableName);
    return findConsumerInfo(await this.#manager(), stream, durableName);
  }

  drain(): Promise<void> {
    // Subscriptions first, waiting for their handlers: a handler finishing a call still needs the
    // connection to send its reply. Then nats.js flushes what is pending and closes.
    this.#closing ??= Promise.allSettled([...this.#subscriptions].map((sub) => sub.drain()))
      .then(() => {
        this.#outbox.flush();
        return this.nc.drain();
      })
      .catch((err: unknown) => {
        if (!this.nc.isClosed()) throw toBusError(err);
      });
    return this.#closing;
  }

  close(): Promise<void> {
    if (this.#closing === undefined && !this.nc.isClosed()) this.#outbox.flush();
    this.#closing ??= this.nc.close();
    return this.#closing;
  }

  closed(): Promise<void | Error> {
    return this.nc.closed();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Made on first use, so a bus used only for core messaging works on a server without JetStream. */
  #manager(): Promise<JetStreamManager> {
    this.#jsm ??= jetstreamManager(this.nc).catch((err: unknown) => {
      this.#jsm = undefined;
      throw toBusError(err);
    });
    return this.#jsm;
  }

  #checkOpen(): void {
    if (this.nc.isClosed()) throw closedError();
  }

  /** One creation per name and bus; a failed creation is forgotten so the next call retries. */
  #cached<T>(cache: Map<string, Promise<T>>, name: string, create: () => Promise<T>): Promise<T> {
    if (this.nc.isClosed()) return Promise.reject(closedError());
    let pending = cache.get(name);
    if (!pending) {
      pending = create().catch((err: unknown) => {
        cache.delete(name);
        throw toBusError(err, name);
      });
      cache.set(name, pending);
    }
    return pending;
  }
}

/** The header block's size on the wire, as nats.js counts it against the server's max_payload. */
function headerBytes(headers: MsgHdrs | undefined): number {
  // nats.js's headers() object encodes itself; its published type leaves that out.
  return headers === undefined ? 0 : (headers as MsgHdrs & { encode(): Uint8Array }).encode().length;
}

function closedError(): BusError {
  return new BusError("closed", "the bus is closed");
}

/**
 * Connects to NATS, retrying forever (by default also the first connection, so services may start
 * before the server), and logs every disconnect and reconnect.
 *
 * Core `publish` is at-most-once: nats.js drops what is published while the connection is down.
 * Use `persist` (acknowledged by JetStream) for messages that must not be lost.
 */
export async function connectNatsBus(options: NatsBusOptions): Promise<Bus> {
  checkNamespace(options.namespace);
  const logger = options.logger ?? stderrLogger;
  const nc = await openNatsConnection(options);
  void watchStatus(nc, logger, options.name);
  return new NatsBus(options.namespace, nc, logger);
}

async function watchStatus(nc: NatsConnection, logger: BusLogger, name: string): Promise<void> {
  for await (const status of nc.status()) {
    switch (status.type) {
      case "disconnect":
        logger.warn({ connection: name, server: status.server }, "disconnected from NATS");
        break;
      case "reconnect":
        logger.info({ connection: name, server: status.server }, "reconnected to NATS");
        break;
      case "error":
        logger.error({ connection: name, err: status.error }, "NATS connection error");
        break;
      default:
        break;
    }
  }
}
