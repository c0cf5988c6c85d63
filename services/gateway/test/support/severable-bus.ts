// A view of a shared in-memory bus that can be cut off, as a gateway's process would be when it
// dies: its subscriptions end and everything it tries afterwards fails as on a lost connection.
import { BusError, type Bus, type KeyValue, type Subscription } from "@tonearm/bus";

export interface SeverableBus {
  readonly bus: Bus;
  sever(): void;
}

export function severable(shared: Bus): SeverableBus {
  let severed = false;
  const subscriptions = new Set<Subscription>();
  const check = (): void => {
    if (severed) throw new BusError("disconnected", "the connection to the server was lost");
  };
  const guarded =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      check();
      return run(...args);
    };
  const severableKv = (kv: KeyValue): KeyValue => ({
    bucket: kv.bucket,
    get: guarded((key: string) => kv.get(key)),
    put: guarded((key: string, value: Uint8Array) => kv.put(key, value)),
    create: guarded((key: string, value: Uint8Array) => kv.create(key, value)),
    update: guarded((key: string, value: Uint8Array, revision: number) => kv.update(key, value, revision)),
    delete: guarded((key: string) => kv.delete(key)),
    keys(filter) {
      check();
      return kv.keys(filter);
    },
    watch: guarded((filter?: string) => kv.watch(filter)),
  });
  const bus: Bus = {
    namespace: shared.namespace,
    publish(subject, data, options) {
      check();
      shared.publish(subject, data, options);
    },
    subscribe(subject, options, handler) {
      check();
      const subscription = shared.subscribe(subject, options, handler);
      subscriptions.add(subscription);
      return subscription;
    },
    request: guarded((subject: string, data: Uint8Array, options: Parameters<Bus["request"]>[2]) => shared.request(subject, data, options)),
    respond(message, data, options) {
      check();
      return shared.respond(message, data, options);
    },
    flush: guarded(() => shared.flush()),
    kv: guarded(async (bucket: string, options?: Parameters<Bus["kv"]>[1]) => severableKv(await shared.kv(bucket, options))),
    objects: guarded((bucket: string) => shared.objects(bucket)),
    stream: guarded((name: string, subjects: readonly string[], options?: Parameters<Bus["stream"]>[2]) => shared.stream(name, subjects, options)),
    persist: guarded((subject: string, data: Uint8Array, options?: Parameters<Bus["persist"]>[2]) => shared.persist(subject, data, options)),
    consumer: guarded((stream: string, name: string, options?: Parameters<Bus["consumer"]>[2]) => shared.consumer(stream, name, options)),
    drain: async () => undefined,
    close: async () => undefined,
    closed: () => shared.closed(),
    [Symbol.asyncDispose]: async () => undefined,
  };
  return {
    bus,
    sever() {
      severed = true;
      for (const subscription of subscriptions) subscription.unsubscribe();
      subscriptions.clear();
    },
  };
}
