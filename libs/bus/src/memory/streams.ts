import { AsyncQueue } from "../async-queue.js";
import type {
  ConsumerInfo,
  ConsumerMessages,
  ConsumerOptions,
  DurableConsumer,
  Headers,
  PersistAck,
  StreamMessage,
  StreamOptions,
} from "../types.js";
import { subjectMatches } from "./match.js";

const DUPLICATE_WINDOW_MS = 2 * 60_000;
export const DEFAULT_ACK_WAIT_MS = 30_000;

interface Stored {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers;
  readonly storedAtMs: number;
}

/** A JetStream stream in process memory: limits retention, message-id de-duplication. */
export class MemoryStream {
  readonly #messages = new Map<number, Stored>();
  readonly #recentIds = new Map<string, { seq: number; atMs: number }>();
  readonly #consumers = new Map<string, MemoryConsumerState>();
  #subjects: string[];
  #options: StreamOptions;
  #lastSeq = 0;

  constructor(
    readonly name: string,
    subjects: readonly string[],
    options: StreamOptions,
  ) {
    this.#subjects = [...subjects];
    this.#options = { ...options };
  }

  get subjects(): readonly string[] {
    return this.#subjects;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  reconfigure(subjects: readonly string[], options: StreamOptions): void {
    this.#subjects = [...new Set([...this.#subjects, ...subjects])];
    this.#options = { ...this.#options, ...options };
    this.#prune();
  }

  captures(subject: string): boolean {
    return this.#subjects.some((pattern) => subjectMatches(pattern, subject));
  }

  append(subject: string, data: Uint8Array, headers: Headers, messageId?: string): PersistAck {
    const now = Date.now();
    if (messageId !== undefined) {
      for (const [id, seen] of this.#recentIds) {
        if (now - seen.atMs < DUPLICATE_WINDOW_MS) break;
        this.#recentIds.delete(id);
      }
      const seen = this.#recentIds.get(messageId);
      if (seen) return { stream: this.name, seq: seen.seq, duplicate: true };
    }
    const seq = ++this.#lastSeq;
    this.#messages.set(seq, { seq, subject, data: data.slice(), headers: { ...headers }, storedAtMs: now });
    if (messageId !== undefined) this.#recentIds.set(messageId, { seq, atMs: now });
    this.#prune();
    for (const consumer of this.#consumers.values()) consumer.dispatch();
    return { stream: this.name, seq, duplicate: false };
  }

  get(seq: number): Stored | undefined {
    const stored = this.#messages.get(seq);
    const maxAgeMs = this.#options.maxAgeMs;
    if (stored && maxAgeMs !== undefined && Date.now() - stored.storedAtMs >= maxAgeMs) {
      this.#prune();
      return undefined;
    }
    return stored;
  }

  consumer(name: string, options: ConsumerOptions): MemoryConsumerState {
    this.#dropInactive();
    let state = this.#consumers.get(name);
    if (state) state.reconfigure(options);
    else {
      state = new MemoryConsumerState(this, name, options);
      this.#consumers.set(name, state);
    }
    return state;
  }

  /** The consumer, or undefined when it does not exist (or was deleted for inactivity). */
  findConsumer(name: string): MemoryConsumerState | undefined {
    this.#dropInactive();
    return this.#consumers.get(name);
  }

  /** Messages of the stream matching `filter` with a sequence of at least `fromSeq`. */
  countFrom(fromSeq: number, filter: string | undefined): number {
    let count = 0;
    for (const stored of this.#messages.values()) {
      if (stored.seq >= fromSeq && (filter === undefined || subjectMatches(filter, stored.subject))) count++;
    }
    return count;
  }

  /** First sequence stored at or after `timeMs`; past the end when there is none. */
  firstSeqFrom(timeMs: number): number {
    for (const stored of this.#messages.values()) if (stored.storedAtMs >= timeMs) return stored.seq;
    return this.#lastSeq + 1;
  }

  close(): void {
    for (const consumer of this.#consumers.values()) consumer.close();
  }

  /** As the server does with `inactive_threshold`: consumers without a puller that long are deleted. */
  #dropInactive(): void {
    for (const [name, consumer] of this.#consumers) {
      if (consumer.inactive()) {
        consumer.close();
        this.#consumers.delete(name);
      }
    }
  }

  /** Drops messages past the age or count limits, oldest first (Map iteration is insertion order). */
  #prune(): void {
    const { maxAgeMs, maxMessages, maxMessagesPerSubject } = this.#options;
    const now = Date.now();
    if (maxMessagesPerSubject !== undefined) {
      const kept = new Map<string, number>();
      for (const stored of [...this.#messages.values()].reverse()) {
        const count = (kept.get(stored.subject) ?? 0) + 1;
        kept.set(stored.subject, count);
        if (count > maxMessagesPerSubject) this.#messages.delete(stored.seq);
      }
    }
    for (const stored of this.#messages.values()) {
      const tooMany = maxMessages !== undefined && this.#messages.size > maxMessages;
      const tooOld = maxAgeMs !== undefined && now - stored.storedAtMs >= maxAgeMs;
      if (!tooMany && !tooOld) break;
      this.#messages.delete(stored.seq);
    }
  }
}

type Puller = (message: StreamMessage | undefined) => void;

/**
 * The state of one durable consumer, shared by every puller: each message goes to one puller, is
 * delivered again `ackWaitMs` after a delivery that got no ack (or after a nak), and is given up
 * after `maxDeliver` deliveries. Redeliveries go out before messages never delivered.
 */
export class MemoryConsumerState {
  #filter: string | undefined;
  #ackWaitMs: number;
  #maxDeliver: number;
  #maxAckPending: number;
  #inactiveThresholdMs: number | undefined;
  /** When the consumer last had a puller or handled an ack. */
  #lastActiveMs = Date.now();
  /** Next stream sequence never delivered. */
  #cursor: number;
  /** Delivery counts of messages delivered and not yet acked, termed or given up. */
  readonly #deliveries = new Map<number, number>();
  /** Ack-wait or nak-delay timers of those messages. */
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #due: number[] = [];
  readonly #pullers: Puller[] = [];
  #closed = false;

  constructor(
    private readonly stream: MemoryStream,
    readonly name: string,
    options: ConsumerOptions,
  ) {
    this.#filter = options.filterSubject;
    this.#ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    this.#maxDeliver = options.maxDeliver ?? Infinity;
    this.#maxAckPending = options.maxAckPending ?? Infinity;
    this.#inactiveThresholdMs = options.inactiveThresholdMs;
    const policy = options.deliverPolicy;
    if (policy === "new") this.#cursor = stream.lastSeq + 1;
    else if (policy === undefined || policy === "all") this.#cursor = 1;
    else this.#cursor = stream.firstSeqFrom(policy.startTimeMs);
  }

  reconfigure(options: ConsumerOptions): void {
    this.#filter = options.filterSubject;
    this.#ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    this.#maxDeliver = options.maxDeliver ?? Infinity;
    if (options.maxAckPending !== undefined) this.#maxAckPending = options.maxAckPending;
    if (options.inactiveThresholdMs !== undefined) this.#inactiveThresholdMs = options.inactiveThresholdMs;
  }

  info(): ConsumerInfo {
    let redelivered = 0;
    for (const count of this.#deliveries.values()) if (count > 1) redelivered++;
    return { pending: this.stream.countFrom(this.#cursor, this.#filter), ackPending: this.#deliveries.size, redelivered };
  }

  inactive(): boolean {
    if (this.#inactiveThresholdMs === undefined || this.#pullers.length > 0 || this.#consuming > 0) return false;
    return Date.now() - this.#lastActiveMs >= this.#inactiveThresholdMs;
  }

  /** Pull loops attached; a consumer with one is active even while it waits. */
  #consuming = 0;

  attach(): () => void {
    this.#consuming++;
    this.#lastActiveMs = Date.now();
    return () => {
      this.#consuming--;
      this.#lastActiveMs = Date.now();
    };
  }

  /** Waits for the next message; `undefined` when the consumer closed. Returns a canceller. */
  pull(puller: Puller): () => void {
    if (this.#closed) {
      puller(undefined);
      return () => undefined;
    }
    this.#pullers.push(puller);
    this.dispatch();
    return () => {
      const i = this.#pullers.indexOf(puller);
      if (i >= 0) this.#pullers.splice(i, 1);
    };
  }

  dispatch(): void {
    while (this.#pullers.length > 0) {
      const stored = this.#nextDeliverable();
      if (!stored) return;
      (this.#pullers.shift() as Puller)(this.#deliver(stored));
    }
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const puller of this.#pullers.splice(0)) puller(undefined);
  }

  #nextDeliverable(): Stored | undefined {
    while (this.#due.length > 0) {
      const seq = this.#due.shift() as number;
      const stored = this.stream.get(seq);
      if (stored && this.#deliveries.has(seq)) return stored;
      this.#forget(seq);
    }
    // As max_ack_pending does: redeliveries go out, new messages wait for acks.
    if (this.#deliveries.size >= this.#maxAckPending) return undefined;
    while (this.#cursor <= this.stream.lastSeq) {
      const stored = this.stream.get(this.#cursor++);
      if (stored && (this.#filter === undefined || subjectMatches(this.#filter, stored.subject))) return stored;
    }
    return undefined;
  }

  #deliver(stored: Stored): StreamMessage {
    const { seq } = stored;
    const deliveryCount = (this.#deliveries.get(seq) ?? 0) + 1;
    this.#deliveries.set(seq, deliveryCount);
    this.#schedule(seq, this.#ackWaitMs);
    return {
      subject: stored.subject,
      data: stored.data.slice(),
      headers: { ...stored.headers },
      seq,
      deliveryCount,
      ack: () => this.#forget(seq),
      nak: (delayMs = 0) => {
        if (this.#deliveries.has(seq)) this.#schedule(seq, delayMs);
      },
      term: () => this.#forget(seq),
      working: () => {
        if (this.#deliveries.has(seq)) this.#schedule(seq, this.#ackWaitMs);
      },
    };
  }

  /** Makes the message due for redelivery after `delayMs`, unless it has used up its deliveries. */
  #schedule(seq: number, delayMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timers.get(seq));
    const timer = setTimeout(() => {
      this.#timers.delete(seq);
      if ((this.#deliveries.get(seq) ?? Infinity) >= this.#maxDeliver) this.#forget(seq);
      else {
        this.#due.push(seq);
        this.dispatch();
      }
    }, delayMs);
    this.#timers.set(seq, timer);
  }

  #forget(seq: number): void {
    const wasPending = this.#deliveries.has(seq);
    this.#lastActiveMs = Date.now();
    clearTimeout(this.#timers.get(seq));
    this.#timers.delete(seq);
    this.#deliveries.delete(seq);
    const i = this.#due.indexOf(seq);
    if (i >= 0) this.#due.splice(i, 1);
    // A freed ack-pending slot lets a waiting puller have the next new message.
    if (wasPending) queueMicrotask(() => this.dispatch());
  }
}

/** The `DurableConsumer` view handed to callers: each `consume()` is one puller. */
export function memoryDurableConsumer(
  state: MemoryConsumerState,
  streamName: string,
  ensureOpen: () => void,
): DurableConsumer {
  return {
    stream: streamName,
    name: state.name,
    consume: () =>
      new Promise((resolve) => {
        ensureOpen();
        resolve(pullLoop(state));
      }),
    info: () =>
      new Promise((resolve) => {
        ensureOpen();
        resolve(state.info());
      }),
  };
}

function pullLoop(state: MemoryConsumerState): ConsumerMessages {
  let cancel: (() => void) | undefined;
  const detach = state.attach();
  const queue = new AsyncQueue<StreamMessage>(() => {
    cancel?.();
    detach();
  });
  let iterating = false;
  return {
    [Symbol.asyncIterator]: () => {
      if (iterating) throw new Error("consumer messages can be iterated once");
      iterating = true;
      const inner = queue[Symbol.asyncIterator]();
      return {
        // One pull per `next()`: a message is only delivered (and its ack wait started) when asked for.
        next: () => {
          if (!queue.ended) {
            cancel = state.pull((message) => (message ? queue.push(message) : queue.end()));
          }
          return inner.next();
        },
        return: () => (inner.return ? inner.return() : Promise.resolve({ value: undefined, done: true })),
      };
    },
    stop: () => {
      queue.end();
      return Promise.resolve();
    },
  };
}
