/**
 * Loaded inside every runtime thread: the host functions that need no I/O, answered without the
 * hop to the event loop. Adding one is adding its module to `threadFunctions`.
 */
import type { ThreadHost, ThreadHostFactory } from "@tonearm/runtime";
import type { ByteHandler } from "./define.js";
import { artworkFunctions, type ArtworkSettings } from "./thread/artwork.js";
import { configFunctions } from "./thread/config.js";
import type { ThreadContext } from "./thread/context.js";
import { timeFunctions } from "./thread/time.js";

/** Settings the in-thread functions need; structured-cloned into each thread. */
export interface ThreadHostData {
  /** Signing settings of the artwork URLs; without them the artwork functions answer an error. */
  readonly artwork?: ArtworkSettings;
}

function threadFunctions(data: ThreadHostData): Readonly<Record<string, ByteHandler<ThreadContext>>> {
  return {
    ...configFunctions,
    ...timeFunctions,
    ...artworkFunctions(data.artwork ?? { secret: "", shareUrl: "", baseUrl: "" }),
  };
}

/** Names answered in-thread; the main-side host never sees these. */
export const THREAD_FUNCTION_NAMES: ReadonlySet<string> = new Set(Object.keys(threadFunctions({})));

const createThreadHost: ThreadHostFactory = (data): ThreadHost => {
  const functions = threadFunctions((data ?? {}));
  return {
    names: new Set(Object.keys(functions)),
    call(plugin, name, request) {
      const fn = functions[name];
      if (!fn) throw new Error(`env.${name} is not answered in-thread`);
      return fn(plugin, request);
    },
  };
};

export default createThreadHost;
