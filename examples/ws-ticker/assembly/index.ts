// Follows a WebSocket feed (by default Coinbase's BTC-USD ticker) and keeps its latest message in
// the plugin's cache under `ticker.last`. OnInit connects and subscribes; a lost connection is
// retried through a one-time schedule, 5 s later and then with a doubling wait up to 5 min; a recurring schedule sends a heartbeat every 30 s
// so idle feeds and dead connections are noticed. One fixed connection ID, so a reconnect replaces
// the old socket rather than opening a second one.
import {
  api,
  cache,
  config,
  LifecycleManagement,
  log,
  registerLifecycleManagement,
  registerSchedulerCallback,
  registerWebSocketCallback,
  Result,
  scheduler,
  SchedulerCallback,
  WebSocketCallback,
  websocket,
} from "@tonearm/pdk-as";
export * from "@tonearm/pdk-as/exports";

const PLUGIN = "ws-ticker";
const CONNECTION_ID = "ws-ticker";
const RECONNECT_SCHEDULE = "ticker-reconnect";
/** The first retry waits this long; each failed one doubles the wait, up to the maximum. */
const RECONNECT_DELAY_SECONDS: i32 = 5;
const MAX_RECONNECT_DELAY_SECONDS: i32 = 300;
/** Retries since the last successful connect, kept in the cache since any instance may retry. */
const RECONNECT_ATTEMPTS_KEY = "ticker.reconnect-attempts";
/**
 * Heartbeats a pending retry may still take before it counts as lost, so that another loss noticed
 * meanwhile does not postpone it. Heartbeats are the clock: Navidrome v0.57 has no usable time.
 */
const RECONNECT_PENDING_KEY = "ticker.reconnect-pending";
const HEARTBEAT_SCHEDULE = "ticker-heartbeat";
const HEARTBEAT_SECONDS: i32 = 30;
const HEARTBEAT_EVERY = "@every " + HEARTBEAT_SECONDS.toString() + "s";
const LAST_MESSAGE_KEY = "ticker.last";
const DEFAULT_URL = "wss://ws-feed.exchange.coinbase.com";
const DEFAULT_SUBSCRIBE = '{"type":"subscribe","product_ids":["BTC-USD"],"channels":["ticker"]}';
const DEFAULT_PING = "ping";
/** How the host says the manifest does not allow the URL: retrying cannot help. */
const BLOCKED_PREFIX = "Connection blocked by plugin permissions";
/** Messages are logged up to this many characters. */
const LOGGED_CHARS = 200;

/** The feed as configured: where, what to send after connecting, what to send as a heartbeat. */
class Feed {
  constructor(
    public url: string,
    public subscribe: string,
    public ping: string,
  ) {}
}

/** Absent keys take the defaults; an empty `subscribe` sends nothing and an empty `ping` turns the heartbeat off. */
function feedFrom(cfg: Map<string, string>): Feed {
  const url = cfg.has("url") ? cfg.get("url").trim() : "";
  return new Feed(
    url.length > 0 ? url : DEFAULT_URL,
    cfg.has("subscribe") ? cfg.get("subscribe") : DEFAULT_SUBSCRIBE,
    cfg.has("ping") ? cfg.get("ping") : DEFAULT_PING,
  );
}

function configuredFeed(): Feed {
  return feedFrom(config.getPluginConfig().config);
}

/** Opens the connection and subscribes; "" on success, else what failed. */
function connectFeed(feed: Feed): string {
  const connected = websocket.connect(new websocket.ConnectRequest(feed.url, new Map<string, string>(), CONNECTION_ID));
  if (connected.error.length > 0) return connected.error;
  if (feed.subscribe.length > 0) {
    const sent = websocket.sendText(new websocket.SendTextRequest(CONNECTION_ID, feed.subscribe));
    if (sent.error.length > 0) return "sending the subscribe message failed: " + sent.error;
  }
  log(PLUGIN + ": connected to " + feed.url);
  cache.remove(new cache.RemoveRequest(RECONNECT_ATTEMPTS_KEY));
  return "";
}

/** Connects, or arranges a retry; a URL the manifest does not allow is not retried. */
function connectOrRetry(feed: Feed): string {
  const error = connectFeed(feed);
  if (error.length == 0) return "";
  if (error.startsWith(BLOCKED_PREFIX)) {
    log(PLUGIN + ": " + error + "; add the feed to websocket.allowedUrls in manifest.json");
    return error;
  }
  scheduleReconnect("connecting to " + feed.url + " failed: " + error);
  return "";
}

/**
 * A lost connection (a close, an error, a failed heartbeat): schedules a retry unless one is
 * pending. Replacing a pending retry would postpone it by a longer wait each time, and a heartbeat
 * failing every 30 s would then keep a retry of over 30 s from ever running. A retry that has not
 * run after its wait and two more heartbeats is taken for lost, and scheduled again.
 */
function connectionLost(why: string, heartbeat: bool): void {
  const pending = cache.getInt(new cache.GetRequest(RECONNECT_PENDING_KEY));
  if (pending.exists && pending.value > 0) {
    if (heartbeat) setPendingHeartbeats(pending.value - 1);
    log(PLUGIN + ": " + why + "; a reconnect is already scheduled");
    return;
  }
  scheduleReconnect(why);
}

function setPendingHeartbeats(heartbeats: i64): void {
  const ttl = (heartbeats + 2) * i64(HEARTBEAT_SECONDS);
  cache.setInt(new cache.SetIntRequest(RECONNECT_PENDING_KEY, heartbeats, ttl));
}

/** Retries after 5 s, then 10, 20, … up to 5 min while the feed stays away, so a dead feed costs little. */
function scheduleReconnect(why: string): void {
  const previous = cache.getInt(new cache.GetRequest(RECONNECT_ATTEMPTS_KEY));
  const attempts = previous.exists ? previous.value : 0;
  let delay = RECONNECT_DELAY_SECONDS;
  for (let i: i64 = 0; i < attempts && delay < MAX_RECONNECT_DELAY_SECONDS; i++) delay *= 2;
  if (delay > MAX_RECONNECT_DELAY_SECONDS) delay = MAX_RECONNECT_DELAY_SECONDS;
  cache.setInt(new cache.SetIntRequest(RECONNECT_ATTEMPTS_KEY, attempts + 1));
  log(PLUGIN + ": " + why + "; reconnecting in " + delay.toString() + " s");
  // The same schedule ID each time: a second loss before the retry replaces the pending retry.
  const res = scheduler.scheduleOneTime(new scheduler.ScheduleOneTimeRequest(delay, new Uint8Array(0), RECONNECT_SCHEDULE));
  if (res.error.length > 0) {
    log(PLUGIN + ": could not schedule the reconnect: " + res.error);
    return;
  }
  setPendingHeartbeats(i64(delay / HEARTBEAT_SECONDS) + 2);
}

function shorten(text: string): string {
  return text.length > LOGGED_CHARS ? text.substring(0, LOGGED_CHARS) + "..." : text;
}

class TickerLifecycle extends LifecycleManagement {
  onInit(req: api.InitRequest): Result {
    const feed = feedFrom(req.config);
    if (!feed.url.startsWith("ws://") && !feed.url.startsWith("wss://")) {
      return Result.ok(new api.InitResponse('config "url" must be a ws:// or wss:// URL, got "' + feed.url + '"'));
    }
    const blocked = connectOrRetry(feed);
    if (blocked.length > 0) return Result.ok(new api.InitResponse(blocked));

    if (feed.ping.length == 0) {
      // Turned off: drop the heartbeat an earlier configuration may have left running.
      scheduler.cancelSchedule(new scheduler.CancelRequest(HEARTBEAT_SCHEDULE));
      return Result.empty();
    }
    const heartbeat = scheduler.scheduleRecurring(new scheduler.ScheduleRecurringRequest(HEARTBEAT_EVERY, new Uint8Array(0), HEARTBEAT_SCHEDULE));
    if (heartbeat.error.length > 0) return Result.ok(new api.InitResponse("scheduling the heartbeat failed: " + heartbeat.error));
    return Result.empty();
  }
}

class TickerSocket extends WebSocketCallback {
  onTextMessage(req: api.OnTextMessageRequest): Result {
    if (req.connectionId != CONNECTION_ID) return Result.empty();
    cache.setString(new cache.SetStringRequest(LAST_MESSAGE_KEY, req.message));
    log(PLUGIN + ": " + shorten(req.message));
    return Result.empty();
  }

  onBinaryMessage(req: api.OnBinaryMessageRequest): Result {
    log(PLUGIN + ": ignored a binary message of " + req.data.length.toString() + " bytes");
    return Result.empty();
  }

  onError(req: api.OnErrorRequest): Result {
    if (req.connectionId == CONNECTION_ID) connectionLost("connection failed: " + req.error, false);
    return Result.empty();
  }

  onClose(req: api.OnCloseRequest): Result {
    if (req.connectionId == CONNECTION_ID) connectionLost("connection closed: " + req.code.toString() + " " + req.reason, false);
    return Result.empty();
  }
}

class TickerSchedules extends SchedulerCallback {
  onSchedulerCallback(req: api.SchedulerCallbackRequest): Result {
    if (req.scheduleId == RECONNECT_SCHEDULE) {
      cache.remove(new cache.RemoveRequest(RECONNECT_PENDING_KEY));
      connectOrRetry(configuredFeed());
    } else if (req.scheduleId == HEARTBEAT_SCHEDULE) {
      const ping = configuredFeed().ping;
      if (ping.length == 0) return Result.empty();
      const sent = websocket.sendText(new websocket.SendTextRequest(CONNECTION_ID, ping));
      // "connection not found": the socket went away without an event reaching us (e.g. its gateway stopped).
      if (sent.error.length > 0) connectionLost("heartbeat failed: " + sent.error, true);
    }
    return Result.empty();
  }
}

registerLifecycleManagement(new TickerLifecycle());
registerWebSocketCallback(new TickerSocket());
registerSchedulerCallback(new TickerSchedules());
