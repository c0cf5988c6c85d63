/**
 * Per-thread idle instances of one plugin version: at most `maxIdle` kept, each dropped after
 * `idleTtlMs` unused (Navidrome: 8 idle, 1 min TTL, swept every TTL/3).
 */
import type { PluginInstance } from "./instance.js";

interface Idle {
  readonly instance: PluginInstance;
  readonly since: number;
}

export class IdleInstances {
  readonly #idle: Idle[] = [];
  readonly #maxIdle: number;
  readonly #ttlMs: number;

  constructor(maxIdle: number, ttlMs: number) {
    this.#maxIdle = maxIdle;
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#idle.length;
  }

  /** The most recently returned instance (warmest caches), if any. */
  take(): PluginInstance | undefined {
    return this.#idle.pop()?.instance;
  }

  /** Keeps a healthy instance for reuse; returns false when it was dropped instead. */
  put(instance: PluginInstance, now: number): boolean {
    if (instance.broken || this.#idle.length >= this.#maxIdle) return false;
    this.#idle.push({ instance, since: now });
    return true;
  }

  /** Drops instances idle for longer than the TTL. */
  sweep(now: number): void {
    const keep = this.#idle.filter((i) => now - i.since < this.#ttlMs);
    this.#idle.splice(0, this.#idle.length, ...keep);
  }

  clear(): void {
    this.#idle.length = 0;
  }
}
