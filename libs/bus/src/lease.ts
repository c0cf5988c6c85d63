/**
 * A lease in a KV bucket: at most one holder at a time, handed over when the holder stops renewing.
 *
 * Value of the key (JSON, UTF-8): `{"holder": "<id>", "expiresAtMs": <epoch ms>}`; a released
 * lease has holder `""`. The holder renews every `ttlMs / 3` with a compare-and-set on the revision
 * it wrote last. A contender takes the lease:
 *   - with `create` when the key holds nothing;
 *   - with `update` on the revision it saw when the value is released, or when that revision has
 *     not changed for `ttlMs` by the contender's own clock (so clock skew between hosts does not
 *     matter; `expiresAtMs` is there for operators).
 * A holder that cannot renew steps down before a contender could take over, so two holders never
 * overlap while their clocks run at the same rate.
 */
import { BusError } from "./errors.js";
import type { BusLogger, KeyValue } from "./types.js";


export interface LeaseOptions {
  readonly kv: KeyValue;
  readonly key: string;
  /** Who holds the lease; unique per process. */
  readonly holder: string;
  readonly ttlMs: number;
  readonly logger: BusLogger;
  /** Called when this holder gets the lease. Not awaited: renewals go on meanwhile. */
  readonly onAcquired: () => void;
  /** Called when this holder has lost the lease or had to give it up. Not awaited. */
  readonly onLost: (reason: string) => void;
}

export interface Lease {
  readonly held: boolean;
  /** Makes the first attempt, then keeps renewing or contending in the background. */
  start(): Promise<void>;
  /** Stops renewing and contending, and releases the lease if held; `onLost` is not called. Idempotent. */
  stop(): Promise<void>;
}

interface LeaseValue {
  readonly holder: string;
  readonly expiresAtMs: number;
}

const RELEASED: LeaseValue = { holder: "", expiresAtMs: 0 };

export function createLease(options: LeaseOptions): Lease {
  return new KvLease(options);
}

class KvLease implements Lease {
  readonly #options: LeaseOptions;
  readonly #intervalMs: number;
  /** A holder that has not renewed for this long stops acting, ahead of any contender's takeover. */
  readonly #stepDownAfterMs: number;
  #revision: number | undefined;
  /** The revision a contender last saw, and since when by its clock. */
  #seen: { revision: number; sinceMs: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Fires when renewals have failed for too long; reset by every successful one. */
  #stepDownTimer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #running = false;

  constructor(options: LeaseOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError(`lease ttl must be positive, got ${options.ttlMs}`);
    this.#options = options;
    this.#intervalMs = Math.max(1, Math.floor(options.ttlMs / 3));
    this.#stepDownAfterMs = options.ttlMs - this.#intervalMs / 2;
  }

  get held(): boolean {
    return this.#revision !== undefined;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.#runTick();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#tick;
    clearTimeout(this.#stepDownTimer);
    await this.#giveUp();
  }

  #runTick(): Promise<void> {
    clearTimeout(this.#timer);
    this.#tick = (this.held ? this.#renew() : this.#contend())
      .catch((err: unknown) => this.#options.logger.error({ err, key: this.#options.key }, "lease check failed"))
      .finally(() => {
        this.#tick = undefined;
        if (this.#running) this.#timer = setTimeout(() => void this.#runTick(), this.#intervalMs);
      });
    return this.#tick;
  }

  async #renew(): Promise<void> {
    const { kv, key, holder, ttlMs, logger } = this.#options;
    const revision = this.#revision;
    if (revision === undefined) return;
    const sentAtMs = Date.now();
    let renewed: number;
    try {
      renewed = await kv.update(key, encode({ holder, expiresAtMs: sentAtMs + ttlMs }), revision);
    } catch (err) {
      if (BusError.is(err, "wrong_revision")) {
        if (this.held) this.#lose("another holder took the lease");
      } else {
        logger.warn({ err, key }, "could not renew the lease");
      }
      return;
    }
    if (this.held) {
      this.#revision = renewed;
      this.#armStepDown(sentAtMs);
    } else {
      // The step-down timer fired while this renewal was on its way; it landed, so the lease is ours.
      this.#acquired(renewed, sentAtMs);
    }
  }

  async #contend(): Promise<void> {
    const { kv, key, holder, ttlMs } = this.#options;
    const entry = await kv.get(key);
    if (entry === undefined) {
      await this.#take(() => kv.create(key, this.#ownValue()), "exists");
      return;
    }
    const current = decode(entry.value);
    // Our own name: a renewal of ours landed after we stepped down, so nobody else holds it.
    const free = current === undefined || current.holder === "" || current.holder === holder;
    if (!free) {
      if (this.#seen?.revision !== entry.revision) {
        this.#seen = { revision: entry.revision, sinceMs: Date.now() };
        return;
      }
      if (Date.now() - this.#seen.sinceMs < ttlMs) return;
    }
    await this.#take(() => kv.update(key, this.#ownValue(), entry.revision), "wrong_revision");
  }

  /** Runs a compare-and-set write; losing the race (`raceCode`) is a normal outcome. */
  async #take(write: () => Promise<number>, raceCode: "exists" | "wrong_revision"): Promise<void> {
    const sentAtMs = Date.now();
    let revision: number;
    try {
      revision = await write();
    } catch (err) {
      if (BusError.is(err, raceCode)) return;
      throw err;
    }
    this.#acquired(revision, sentAtMs);
  }

  #acquired(revision: number, sentAtMs: number): void {
    this.#revision = revision;
    this.#seen = undefined;
    this.#armStepDown(sentAtMs);
    this.#options.logger.info({ key: this.#options.key, holder: this.#options.holder }, "lease acquired");
    this.#options.onAcquired();
  }

  /**
   * A contender takes over `ttlMs` after it first saw our last write, which is after we sent it:
   * stepping down a little earlier, counted from the send, keeps the two from overlapping.
   */
  #armStepDown(sentAtMs: number): void {
    clearTimeout(this.#stepDownTimer);
    const remainingMs = sentAtMs + this.#stepDownAfterMs - Date.now();
    this.#stepDownTimer = setTimeout(() => {
      if (this.held) this.#lose(`the lease could not be renewed for ${this.#stepDownAfterMs} ms`);
    }, Math.max(0, remainingMs));
  }

  #ownValue(): Uint8Array {
    return encode({ holder: this.#options.holder, expiresAtMs: Date.now() + this.#options.ttlMs });
  }

  #lose(reason: string): void {
    this.#revision = undefined;
    clearTimeout(this.#stepDownTimer);
    this.#options.logger.warn({ key: this.#options.key, holder: this.#options.holder, reason }, "lease lost");
    this.#options.onLost(reason);
  }

  async #giveUp(): Promise<void> {
    const revision = this.#revision;
    if (revision === undefined) return;
    this.#revision = undefined;
    clearTimeout(this.#stepDownTimer);
    try {
      await this.#options.kv.update(this.#options.key, encode(RELEASED), revision);
    } catch (err) {
      // Someone took it already, or the server is unreachable: contenders take over after the ttl.
      this.#options.logger.warn({ err, key: this.#options.key }, "could not release the lease");
    }
  }
}

function encode(value: LeaseValue): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Undefined for a value this code did not write; such a lease is treated as free. */
function decode(data: Uint8Array): LeaseValue | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<LeaseValue> | null;
    if (typeof value?.holder === "string" && typeof value.expiresAtMs === "number") {
      return { holder: value.holder, expiresAtMs: value.expiresAtMs };
    }
  } catch {
    // fall through
  }
  return undefined;
}
