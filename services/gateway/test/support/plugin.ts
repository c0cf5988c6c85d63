// A stand-in for a plugin's WebSocketCallback capability: answers the calls the gateway makes on
// the bus, as a worker would, and records them.
import { fromBinary } from "@bufbuild/protobuf";
import { CallHeader, subjects, type Bus, type Subscription } from "@tonearm/bus";
import { api } from "@tonearm/proto";

export type Callback =
  | { readonly method: "OnTextMessage"; readonly connectionId: string; readonly message: string }
  | { readonly method: "OnBinaryMessage"; readonly connectionId: string; readonly data: Uint8Array }
  | { readonly method: "OnError"; readonly connectionId: string; readonly error: string }
  | { readonly method: "OnClose"; readonly connectionId: string; readonly code: number; readonly reason: string };

export interface FakePlugin {
  readonly callbacks: Callback[];
  /** Callers named by the calls' headers. */
  readonly callers: Set<string | undefined>;
  /** Calls that arrived while an earlier one for the same connection was still unanswered. */
  readonly overlapping: Callback[];
  /** The first callback matching, waiting for it if it has not come yet. */
  next(match: (callback: Callback) => boolean): Promise<Callback>;
  /** Callbacks for one connection, in arrival order. */
  of(connectionId: string): Callback[];
  stop(): void;
}

export function fakePlugin(
  bus: Bus,
  namespace: string,
  pluginId: string,
  options: { answerAfterMs?: (callback: Callback) => number } = {},
): FakePlugin {
  const callbacks: Callback[] = [];
  const overlapping: Callback[] = [];
  const callers = new Set<string | undefined>();
  const unanswered = new Map<string, number>();
  const waiting: { match: (callback: Callback) => boolean; resolve: (callback: Callback) => void }[] = [];
  const subject = subjects(namespace);

  const subscription: Subscription = bus.subscribe(subject.pluginCalls(pluginId), {}, async (message) => {
    const target = subject.parseCall(message.subject);
    if (!target || target.capability !== "WebSocketCallback") throw new Error(`unexpected call ${message.subject}`);
    const callback = decode(target.method, message.data);
    callers.add(message.headers[CallHeader.Caller]);
    const pending = unanswered.get(callback.connectionId) ?? 0;
    if (pending > 0) overlapping.push(callback);
    unanswered.set(callback.connectionId, pending + 1);
    callbacks.push(callback);
    for (let i = waiting.length - 1; i >= 0; i--) {
      const waiter = waiting[i];
      if (waiter?.match(callback)) {
        waiting.splice(i, 1);
        waiter.resolve(callback);
      }
    }
    const delayMs = options.answerAfterMs?.(callback) ?? 0;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    unanswered.set(callback.connectionId, (unanswered.get(callback.connectionId) ?? 1) - 1);
    // Every On*Response is an empty message: zero bytes.
    bus.respond(message, new Uint8Array(0));
  });

  return {
    callbacks,
    callers,
    overlapping,
    next(match) {
      const seen = callbacks.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ match, resolve }));
    },
    of: (connectionId) => callbacks.filter((callback) => callback.connectionId === connectionId),
    stop: () => subscription.unsubscribe(),
  };
}

function decode(method: string, data: Uint8Array): Callback {
  switch (method) {
    case "OnTextMessage": {
      const { connectionId, message } = fromBinary(api.OnTextMessageRequestSchema, data);
      return { method, connectionId, message };
    }
    case "OnBinaryMessage": {
      const { connectionId, data: bytes } = fromBinary(api.OnBinaryMessageRequestSchema, data);
      // A plain copy: over NATS the bytes are a view into a Buffer.
      return { method, connectionId, data: Uint8Array.from(bytes) };
    }
    case "OnError": {
      const { connectionId, error } = fromBinary(api.OnErrorRequestSchema, data);
      return { method, connectionId, error };
    }
    case "OnClose": {
      const { connectionId, code, reason } = fromBinary(api.OnCloseRequestSchema, data);
      return { method, connectionId, code, reason };
    }
    default:
      throw new Error(`unknown WebSocketCallback method ${method}`);
  }
}
