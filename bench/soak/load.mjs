// The soak's mixed load: plugin calls and agents calls from a few concurrent loops, each call with a
// deadline and a watchdog past it (a call that outlives both is a hang); scrobble submits at a
// steady rate, each event tracked until every scrobbler plugin has recorded it.
import { CallError } from "@tonearm/abi";
import { callPlugin, decodeCallReply, encodeCallRequest, publishScrobble, subjects } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";

/** The deadline every call carries. */
export const CALL_TIMEOUT_MS = 5_000;
/** A call not settled this long after its deadline is counted as a hang. */
const HANG_GRACE_MS = 3_000;

const plugin = (name, capability, method, json, check) => ({ name: `${name} ${method}`, kind: "call", target: { plugin: name, capability, method }, json, check });
const agents = (method, json, check) => ({ name: `agents ${method}`, kind: "agents", method, json, check });

/** The calls the loops pick from, in turn; each names the answer it must get. */
export const OPERATIONS = [
  plugin("fake_artist_agent", "MetadataAgent", "GetArtistMBID", { id: "1", name: "X" }, (r) => r.answer.mbid === "1234567890"),
  plugin("fake_artist_agent", "MetadataAgent", "GetArtistBiography", { id: "1", name: "X" }, (r) => r.answer.biography === "This is a test biography"),
  plugin("fake_album_agent", "MetadataAgent", "GetAlbumInfo", { name: "A", artist: "B" }, (r) => r.answer.info?.name === "A"),
  plugin("multi_plugin", "MetadataAgent", "GetArtistBiography", { id: "1", name: "X" }, (r) => r.answer.biography === "Multi agent artist bio"),
  // The first agent (fake_album_agent) has no artist methods, so the chain goes on to multi_plugin.
  agents("GetArtistMBID", { id: "1", name: "X" }, (r) => r.answer.mbid === "multi-artist-mbid" && r.agent === "multi_plugin"),
  agents("GetAlbumInfo", { name: "A", artist: "B" }, (r) => r.answer.info?.name === "A" && r.agent === "fake_album_agent"),
  // multi_plugin answers no similar artists: not accepted, fake_artist_agent's answer is.
  agents("GetSimilarArtists", { id: "1", name: "X" }, (r) => r.answer.artists?.length > 0 && r.agent === "fake_artist_agent"),
];

export class Counts {
  ok = 0;
  /** Errors by code: CallError codes, `wrong_answer`, `hang`, or the error's name. */
  errors = {};
  /** Of those, the ones that came while a process was down or just restarted. */
  errorsNearKill = {};
  slowestMs = 0;

  add(code, nearKill) {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
    if (nearKill) this.errorsNearKill[code] = (this.errorsNearKill[code] ?? 0) + 1;
  }

  get errorTotal() {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }
}

async function send(bus, namespace, operation) {
  if (operation.kind === "call") {
    return { answer: await callPlugin(bus, namespace, { ...operation.target, json: operation.json, timeoutMs: CALL_TIMEOUT_MS, caller: "soak" }) };
  }
  const wire = encodeCallRequest(new TextEncoder().encode(JSON.stringify(operation.json)), {
    contentType: "application/json",
    deadlineMs: Date.now() + CALL_TIMEOUT_MS,
    caller: "soak",
  });
  let reply;
  try {
    reply = await bus.request(subjects(namespace).agents(operation.method), wire.data, { timeoutMs: CALL_TIMEOUT_MS + 250, headers: wire.headers });
  } catch (err) {
    // As callPlugin names them: no answer in time, or nobody listening.
    if (err?.code === "timeout") throw new CallError("timeout", `agents ${operation.method}: no answer in time`);
    if (err?.code === "no_responders") throw new CallError("unavailable", `agents ${operation.method}: no worker listening`);
    throw err;
  }
  return { answer: JSON.parse(new TextDecoder().decode(decodeCallReply(reply))), agent: reply.headers["Tonearm-Agent"] };
}

function codeOf(err) {
  if (err instanceof CallError) return err.code;
  return err?.code ?? err?.name ?? "error";
}

/** One call with its watchdog: resolves with `ok` or an error code, never rejects, never hangs. */
export async function callOnce(bus, namespace, operation) {
  const started = performance.now();
  let timer;
  const watchdog = new Promise((resolve) => (timer = setTimeout(() => resolve({ code: "hang" }), CALL_TIMEOUT_MS + HANG_GRACE_MS)));
  const call = send(bus, namespace, operation).then(
    (result) => (operation.check(result) ? { code: "ok" } : { code: "wrong_answer", detail: JSON.stringify(result).slice(0, 300) }),
    (err) => ({ code: codeOf(err), detail: err instanceof Error ? err.message : String(err) }),
  );
  const outcome = await Promise.race([call, watchdog]);
  clearTimeout(timer);
  return { ...outcome, ms: performance.now() - started };
}

/**
 * `loops` concurrent loops calling OPERATIONS in turn (a `pauseMs` rest after each) until `until()`;
 * `nearKill()` says whether a process is down or just came back, for the error breakdown.
 */
export async function runCallLoops(bus, namespace, { loops, pauseMs, until, nearKill, counts, onUnexpected }) {
  let next = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (!until()) {
        const operation = OPERATIONS[next++ % OPERATIONS.length];
        const outcome = await callOnce(bus, namespace, operation);
        counts.slowestMs = Math.max(counts.slowestMs, outcome.ms);
        if (outcome.code === "ok") counts.ok++;
        else {
          const near = nearKill();
          counts.add(outcome.code, near);
          if (!near || outcome.code === "hang" || outcome.code === "wrong_answer") onUnexpected(operation, outcome);
        }
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }),
  );
}

/**
 * Submit events and what each scrobbler recorded of them. An event is lost so far when it was
 * published more than `lateAfterMs` ago and a plugin has still not recorded it.
 */
export class ScrobbleLedger {
  published = 0;
  publishErrors = {};
  #publishedAt = new Map();
  #received;
  #duplicates;
  #cursor = 0;

  constructor(recorder, plugins, runId) {
    this.recorder = recorder;
    this.plugins = plugins;
    this.runId = runId;
    this.#received = new Map(plugins.map((p) => [p, new Set()]));
    this.#duplicates = new Map(plugins.map((p) => [p, 0]));
  }

  /** Publishes event `n` (retried with the same id, which JetStream stores once). */
  async publish(bus, n) {
    const event = {
      kind: busProto.ScrobbleEvent_Kind.SUBMIT,
      userId: `user${n % 7}`,
      username: `User ${n % 7}`,
      track: { id: `${this.runId}-${n}`, name: `Track ${n}`, artists: [{ name: "Artist" }], length: 180 },
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      eventId: `${this.runId}-${n}`,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await publishScrobble(bus, event);
        this.#publishedAt.set(event.track.id, Date.now());
        this.published++;
        return;
      } catch (err) {
        const code = codeOf(err);
        this.publishErrors[code] = (this.publishErrors[code] ?? 0) + 1;
        if (attempt === 3) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** Takes in what the recorder got since the last look. */
  #catchUp() {
    const received = this.recorder.received;
    for (; this.#cursor < received.length; this.#cursor++) {
      const r = received[this.#cursor];
      const seen = this.#received.get(r.plugin);
      if (r.kind !== "scrobble" || seen === undefined) continue;
      if (seen.has(r.track)) this.#duplicates.set(r.plugin, this.#duplicates.get(r.plugin) + 1);
      else seen.add(r.track);
    }
  }

  /** Per plugin: distinct events received, duplicates, and events missing that are older than `lateAfterMs`. */
  status(lateAfterMs) {
    this.#catchUp();
    const cutoff = Date.now() - lateAfterMs;
    return Object.fromEntries(
      this.plugins.map((plugin) => {
        const seen = this.#received.get(plugin);
        let missing = 0;
        let late = 0;
        for (const [track, at] of this.#publishedAt) {
          if (seen.has(track)) continue;
          missing++;
          if (at < cutoff) late++;
        }
        return [plugin, { received: seen.size, duplicates: this.#duplicates.get(plugin), missing, late }];
      }),
    );
  }

  /** Events published but received by no plugin or not by all: none once delivery is complete. */
  complete() {
    return Object.values(this.status(0)).every((s) => s.missing === 0);
  }
}

/** Publishes one event every `intervalMs` until `until()`. */
export async function runScrobbles(bus, ledger, { intervalMs, until }) {
  let n = 0;
  while (!until()) {
    const started = Date.now();
    await ledger.publish(bus, n++);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started))));
  }
}
