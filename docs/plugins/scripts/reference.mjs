#!/usr/bin/env node
// Writes docs/plugins/reference.md from the sources it documents: the capabilities, host functions
// and messages from proto/ (read with buf, comments included) and the ABI tables of @tonearm/abi;
// the error texts from the constants @tonearm/host answers with. The explanations between the
// tables are kept here. docs/plugins/test/reference.test.ts fails when the file is out of date.
//
//   node docs/plugins/scripts/reference.mjs           rewrite docs/plugins/reference.md (needs `npm run build`)
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import process from "node:process";
import { URL, fileURLToPath, pathToFileURL } from "node:url";
import { createFileRegistry, fromBinary, ScalarType } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { getComments } from "@bufbuild/protoplugin";
import { CAPABILITIES, CallErrorCode, HOST_IMPORTS, PERMISSION_KEYS, PLUGIN_NOT_FOUND, PLUGIN_NOT_IMPLEMENTED, capability } from "@tonearm/abi";
import {
  CONNECTION_BLOCKED_PREFIX,
  CONNECTION_NOT_FOUND,
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TTL_MS,
  DEFAULT_USER_AGENT,
  LOCALHOST_NOT_ALLOWED,
  MAX_REDIRECTS,
  PRIVATE_IP_NOT_ALLOWED,
  REQUEST_BLOCKED_PREFIX,
  ROUTER_NOT_AVAILABLE,
  SCHEDULE_ID_LENGTH,
  SCHEDULE_NOT_FOUND,
  SUBSONIC_API_VERSION,
} from "@tonearm/host";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const REFERENCE_FILE = `${ROOT}docs/plugins/reference.md`;

/** The proto files of the ABI, with their comments (protobuf-es's embedded descriptors drop them). */
function protoRegistry() {
  const bytes = execFileSync(`${ROOT}node_modules/.bin/buf`, ["build", "--path", "proto/navidrome", "-o", "-#format=binpb"], { cwd: ROOT });
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
}

/** What each capability is for, and how hosts use its answers. */
const CAPABILITY_NOTES = {
  MetadataAgent:
    "Artist and album metadata. A host asks the agents named in `Agents`, in that order, and takes the first acceptable answer: " +
    "MBID and URL need a non-empty value, the lists (similar artists, images, top songs, album images) a non-empty list, while a " +
    "biography or album info is taken as it is, even empty; `plugin:not_found` and `plugin:not_implemented` (and any other error) " +
    "move on to the next agent. Navidrome's own special artists (unknown artist, various artists) never reach a plugin (ABI.md §12).",
  Scrobbler:
    "Scrobbling to an outside service. `IsAuthorized` is asked before every `NowPlaying` and `Scrobble`, without caching; " +
    "a plugin answers it from its own data (e.g. per-user tokens in its config). Scrobbles from Navidrome's retry buffer " +
    "arrive without `username` (ABI.md §7). A non-empty `error` marks the call failed; it is logged.",
  SchedulerCallback:
    "Receives the schedules set through the `scheduler` host service: `schedule_id` as given (byte for byte), the `payload`, " +
    "and `is_recurring`. A one-time schedule is gone before its callback runs (ABI.md §8).",
  LifecycleManagement:
    "`OnInit` runs once per plugin version when a host loads the plugin, with the plugin's `[PluginConfig.<id>]`. An error, or a " +
    "non-empty `error`, takes the plugin out of service until a new version is loaded (v0.58+ semantics, ABI.md §11.6).",
  WebSocketCallback:
    "Receives the events of connections opened through the `websocket` host service, in order per connection. Navidrome never " +
    "calls `OnClose` (a closed connection arrives as `OnError` there); Tonearm calls it on a close frame (ABI.md §9, §14).",
};

/** How each host service behaves and what it answers when it refuses; texts come from @tonearm/host. */
const SERVICE_NOTES = {
  http: [
    "One function per method; the body is sent only with POST, PUT and PATCH. The request's URL and method must match " +
      "`permissions.http.allowedUrls` (patterns as in [manifest.md](manifest.md)); private and loopback addresses need " +
      "`allowLocalNetwork` (checked on the resolved address in Tonearm, on the literal host in Navidrome).",
    `Timeout: \`timeout_ms\`, or ${DEFAULT_HTTP_TIMEOUT_MS} ms when 0, for the whole exchange. At most ${MAX_REDIRECTS} redirects are ` +
      "followed, each target checked against the permissions; a redirect that may not be followed is answered as it is (the 3xx). " +
      `Response bodies larger than ${DEFAULT_MAX_RESPONSE_BYTES} bytes (Tonearm's default, \`[http] maxResponseBytes\`) fail. ` +
      `Without a \`User-Agent\` header, \`${DEFAULT_USER_AGENT}\` is sent, as Go does. Any status is an answer, not an error.`,
    "Response headers: the first value of each, keys in canonical form (`Content-Type`).",
  ],
  config: ["`config` is the plugin's `[PluginConfig.<id>]` table: keys lower-cased, values strings. The same map goes to `OnInit`."],
  scheduler: [
    "Cron expressions have five fields (no seconds), or a descriptor (`@hourly`, `@daily`, …), or `@every <duration>` " +
      `(\`@every 30s\`, Go durations). Without a \`schedule_id\` the host makes one of ${SCHEDULE_ID_LENGTH} characters. ` +
      "Setting an id again replaces the schedule. Ids are returned byte for byte; named callbacks of the Go PDK prefix them with " +
      "`<name>` and U+200B (the AssemblyScript PDK's `registerNamedSchedulerCallback` does the same). A schedule fires once per cluster.",
    "`time_now` (v0.58+) is the host's wall clock: plugins under Navidrome see a fake WASI clock, so use it for real time.",
  ],
  websocket: [
    "The URL must match `permissions.websocket.allowedUrls`. Events arrive as `WebSocketCallback` calls, so declare that " +
      "capability. Without a `connection_id` the host makes one; connecting again with the same id replaces the connection.",
  ],
  cache: [
    `Values keep their type: a \`get_*\` of another type, like a missing or expired key, answers \`exists: false\`. \`ttl_seconds\` ≤ 0 means ${DEFAULT_TTL_MS / 3_600_000} hours. ` +
      "Every read of an entry restarts its TTL. Keys are per plugin: no plugin sees another's. In a cluster the cache is shared by every worker (Redis).",
  ],
  artwork: [
    "Public image URLs `<ShareURL>/share/img/<token>[?size=N]` for an artist, album or track id, signed as Navidrome signs them " +
      "(size 0: the original). Without `ShareURL` the base comes from `BaseURL`, else `http://localhost`.",
  ],
  subsonicapi: [
    `Calls the Subsonic API of the music server as the user named in the \`u\` parameter, e.g. \`/rest/getAlbum?u=alice&id=…\`; the host adds \`c=<plugin id>\`, \`f=json\` and \`v=${SUBSONIC_API_VERSION}\` and returns the JSON body (Subsonic errors are inside it). ` +
      "`allowedUsernames` and `allowAdmins` of the permission limit the users.",
  ],
};

/** Texts a host service answers in the response's `error` field (never a trap in Tonearm). */
const SERVICE_ERRORS = {
  http: [
    `\`${REQUEST_BLOCKED_PREFIX}<reason>\` (status 0) when the permissions refuse: \`${LOCALHOST_NOT_ALLOWED}\`, \`${PRIVATE_IP_NOT_ALLOWED}\`, ` +
      "`operation <METHOD> not allowed for URL pattern <pattern>`, `URL <url> does not match any allowed URL patterns`, `invalid URL: …`.",
    '`Get "<url>": <cause>` (status 0) for network failures (refused connection, DNS, TLS), the method as Go spells it; ' +
      '`Get "<url>": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` at the timeout.',
  ],
  config: [],
  scheduler: [
    `\`${SCHEDULE_NOT_FOUND}\` from \`cancel_schedule\` (with \`success: false\`) for an id the plugin has no schedule under.`,
    "`failed to schedule recurring job: <reason>` for an expression that does not parse (e.g. `expected exactly 5 fields, found 6: […]`); " +
      "Tonearm answers it in `error`, Navidrome traps.",
  ],
  websocket: [
    `\`${CONNECTION_BLOCKED_PREFIX}<reason>\` from \`connect\` when the permissions refuse the URL.`,
    "`failed to connect to WebSocket server: <cause>` from `connect` when the server cannot be reached (Tonearm answers it in `error`; Navidrome traps).",
    `\`${CONNECTION_NOT_FOUND}\` from \`send_text\`, \`send_binary\` and \`close\` for an unknown id; \`failed to send message: <cause>\` when a write fails.`,
  ],
  cache: ["`cache write failed: cache quota exceeded for plugin <id>: …` in `SetResponse.error` (Tonearm's optional per-plugin quota)."],
  artwork: [],
  subsonicapi: [
    `\`${ROUTER_NOT_AVAILABLE}\` when no Subsonic server is configured; \`invalid URL format: …\`; \`missing required parameter 'u' (username)\`; ` +
      "`username <u> is not allowed`, `username <u> not found`, `calling SubsonicAPI as admin user is not allowed`; `SubsonicAPI request failed: …`.",
  ],
};

/**
 * What fields mean where proto/ has no comment (ABI.md §2.2), by `<Message>.<field>`; the reference
 * test checks that every key still names a field.
 */
export const FIELD_NOTES = {
  "ArtistMBIDRequest.id": "The artist's id in the music server.",
  "ArtistSimilarRequest.limit": "How many artists the caller wants at most.",
  "ArtistTopSongsRequest.artistName": "The artist's name (the other artist requests call it `name`).",
  "ArtistTopSongsRequest.count": "How many songs the caller wants at most.",
  "ExternalImage.size": "Width in pixels; 0 when unknown.",
  "AlbumInfoResponse.info": "Absent means not found.",
  "ScrobblerIsAuthorizedRequest.user_id": "The music server's user id; always set.",
  "ScrobblerIsAuthorizedRequest.username": "May be empty (scrobbles retried from Navidrome's buffer).",
  "ScrobblerIsAuthorizedResponse.error": "Non-empty: not authorized, whatever `authorized` says.",
  "ScrobblerNowPlayingRequest.timestamp": "Unix seconds, when the host dispatched it.",
  "ScrobblerScrobbleRequest.timestamp": "Unix seconds, when the track was played.",
  "ScrobblerNowPlayingResponse.error": "Non-empty: the notice failed (logged).",
  "ScrobblerScrobbleResponse.error": "Non-empty: the scrobble failed (logged, not retried).",
  "TrackInfo.id": "The track's id in the music server.",
  "TrackInfo.mbid": "MusicBrainz recording id, when known.",
  "TrackInfo.album_mbid": "MusicBrainz release id, when known.",
  "TrackInfo.length": "Seconds.",
  "TrackInfo.position": "Seconds into the track (NowPlaying); 0 for Scrobble.",
  "SchedulerCallbackRequest.schedule_id": "As the plugin set it, byte for byte.",
  "SchedulerCallbackRequest.payload": "As the plugin set it.",
  "SchedulerCallbackRequest.is_recurring": "True for a cron or `@every` schedule.",
  "InitRequest.config": "The plugin's `[PluginConfig.<id>]`, keys lower-cased.",
  "InitResponse.error": "Non-empty: initialisation failed, the plugin is taken out of service.",
  "OnCloseRequest.code": "The close frame's status code (Tonearm only; Navidrome never calls OnClose).",
  "HttpRequest.url": "Must match `permissions.http.allowedUrls`.",
  "HttpRequest.headers": "One value per header.",
  "HttpResponse.status": "0 when `error` is set.",
  "GetPluginConfigResponse.config": "The plugin's `[PluginConfig.<id>]`, keys lower-cased, values strings.",
  "ScheduleOneTimeRequest.delay_seconds": "0 or less fires at once.",
  "ScheduleRecurringRequest.cron_expression": "Five fields, a descriptor (`@daily`) or `@every <duration>`.",
  "CancelResponse.error": "`schedule not found` for an unknown id.",
  "TimeNowResponse.rfc3339_nano": "The host's wall clock, Go's RFC 3339 with nanoseconds.",
  "TimeNowResponse.unix_milli": "The same instant in Unix milliseconds.",
  "TimeNowResponse.local_time_zone": "The host's time zone name.",
  "ConnectRequest.connection_id": "Optional; the host makes one when empty.",
  "CloseRequest.code": "Close status code sent to the server, e.g. 1000.",
  "SetStringRequest.ttl_seconds": "0 or less means 24 hours.",
  "GetStringResponse.exists": "False for a missing or expired key, or a value of another type.",
  "GetArtworkUrlRequest.id": "The artist, album or track id in the music server.",
  "GetArtworkUrlRequest.size": "Image size in pixels; 0 for the original.",
  "CallRequest.url": "A Subsonic API path and query, e.g. `/rest/getAlbum?u=alice&id=…`; `u` names the user.",
  "CallResponse.json": "The Subsonic response body (errors included, as Subsonic JSON).",
};

const SCALARS = { ...ScalarType };

function typeOf(field) {
  if (field.fieldKind === "map") return `map<${scalarName(field.mapKey)}, ${field.mapKind === "scalar" ? scalarName(field.scalar) : field.message.name}>`;
  const base = field.fieldKind === "scalar" ? scalarName(field.scalar) : field.fieldKind === "enum" ? field.enum.name : field.message.name;
  return field.fieldKind === "list" ? `repeated ${field.scalar !== undefined ? scalarName(field.scalar) : field.message.name}` : base;
}

function scalarName(scalar) {
  return SCALARS[scalar].toLowerCase();
}

/** A proto comment as one line of Markdown, generator annotations left out. */
function comment(desc) {
  const text = getComments(desc).leading ?? "";
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("go:plugin"))
    .join(" ");
}

/** The AssemblyScript PDK's name for a host function: the RPC camel-cased (`delete` takes a `_`). */
function pdkFunction(permission, method) {
  const name = method.charAt(0).toLowerCase() + method.slice(1);
  return `${permission}.${name === "delete" ? "delete_" : name}`;
}

function table(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function messageSection(registry, typeName, usedBy) {
  const message = registry.getMessage(typeName);
  const about = comment(message);
  const notes = (f) => [comment(f), FIELD_NOTES[`${message.name}.${f.name}`] ?? ""].filter((n) => n !== "").join(" ");
  const rows = message.fields.map((f) => [String(f.number), `\`${f.name}\``, `\`${f.jsonName}\``, `\`${typeOf(f)}\``, notes(f)]);
  return [
    `#### ${message.name}`,
    "",
    ...(about ? [about, ""] : []),
    `Used by ${usedBy.join(", ")}.`,
    "",
    rows.length > 0 ? table(["#", "Field", "JSON", "Type", "Notes"], rows) : "No fields: encodes to zero bytes.",
    "",
  ];
}

/** The whole reference as Markdown. */
export function renderReference() {
  const registry = protoRegistry();
  const out = [
    "# Plugin API reference",
    "",
    "<!-- Generated by docs/plugins/scripts/reference.mjs from proto/, @tonearm/abi and @tonearm/host: run `npm run docs:plugins` after changing them. -->",
    "",
    "Everything a plugin and its host say to each other in Navidrome's first plugin system (v0.57–v0.59), as Tonearm implements it.",
    "A plugin **exports** one function per method of each capability it declares in its manifest, and **imports** host functions",
    "from the module `env`, one per method of each host service its permissions grant. Every message is protobuf (proto3); the",
    "field numbers and types below are the wire contract (ABI.md §2), the JSON names are what `tonearm call` and the HTTP and NATS",
    "callers use. The AssemblyScript PDK generates a class per message (`api.ArtistMBIDRequest`, `http.HttpRequest`) and a",
    "function per host function; the Go example writes them by hand ([go.md](go.md)).",
    "",
    "## Calls in both directions",
    "",
    "- **Host → plugin** (ABI.md §1.4): the host writes the request through the plugin's `malloc`, calls the export with",
    "  `(ptr, len)` and reads an `i64` packing `ptr << 32 | len`; bit 31 of `len` set means the bytes are an error string.",
    `  \`${PLUGIN_NOT_FOUND}\` and \`${PLUGIN_NOT_IMPLEMENTED}\` are matched exactly (no answer here; method not offered);`,
    "  any other string is a failure. An empty message travels as `(0, 0)`.",
    "- **Plugin → host** (ABI.md §1.5): `env.<name>(ptr, len) → i64`, the same packing without an error bit. Host-side failures come",
    "  back in the response's `error` field (the texts below); a module importing a function its manifest does not grant fails to",
    '  load with `"<name>" is not exported in module "env"`.',
    `- **Callers** (\`tonearm call\`, HTTP, NATS) see the outcome as a code: ${Object.values(CallErrorCode)
      .map((c) => `\`${c}\``)
      .join(", ")}.`,
    "",
    "## Capabilities",
    "",
    "Declared in the manifest's `capabilities`; each export returns its version through `<capability>_api_version` (always 1).",
    "",
  ];

  const capabilityMessages = new Map();
  for (const name of CAPABILITIES) {
    const descriptor = capability(name);
    out.push(`### ${name}`, "", CAPABILITY_NOTES[name], "", `Version export: \`${descriptor.versionExport}\`.`, "");
    out.push(
      table(
        ["Method", "Export", "Request", "Response"],
        descriptor.methods.map((m) => [`\`${m.method}\``, `\`${m.exportName}\``, `[${m.input.name}](#${m.input.name.toLowerCase()})`, `[${m.output.name}](#${m.output.name.toLowerCase()})`]),
      ),
      "",
    );
    for (const m of descriptor.methods) {
      for (const message of [m.input, m.output]) {
        const users = capabilityMessages.get(message.typeName) ?? [];
        users.push(`\`${name}/${m.method}\``);
        capabilityMessages.set(message.typeName, users);
      }
    }
  }

  out.push("## Host services", "", "Granted by the manifest's `permissions`, one key per service ([manifest.md](manifest.md)).", "");
  const hostMessages = new Map();
  for (const permission of PERMISSION_KEYS) {
    const imports = HOST_IMPORTS.filter((i) => i.permission === permission);
    out.push(`### ${permission}`, "", ...SERVICE_NOTES[permission].flatMap((p) => [p, ""]));
    out.push(
      table(
        ["Method", "Import", "PDK function", "Request", "Response"],
        imports.map((i) => [
          `\`${i.method}\``,
          `\`env.${i.name}\``,
          `\`${pdkFunction(permission, i.method)}\``,
          `[${i.input.name}](#${i.input.name.toLowerCase()})`,
          `[${i.output.name}](#${i.output.name.toLowerCase()})`,
        ]),
      ),
      "",
    );
    const errors = SERVICE_ERRORS[permission];
    out.push(...(errors.length > 0 ? ["Errors:", "", ...errors.map((e) => `- ${e}`), ""] : ["No errors: every call answers.", ""]));
    for (const i of imports) {
      for (const message of [i.input, i.output]) {
        const users = hostMessages.get(message.typeName) ?? [];
        if (!users.includes(`\`env.${i.name}\``)) users.push(`\`env.${i.name}\``);
        hostMessages.set(message.typeName, users);
      }
    }
  }

  out.push("## Messages", "", "Field numbers and types are the wire contract; JSON names are protobuf's JSON mapping.", "");
  out.push("### Capability messages (api.proto)", "");
  for (const [typeName, users] of capabilityMessages) out.push(...messageSection(registry, typeName, users));
  // Messages only nested inside others (Artist, TrackInfo, …), listed after the ones methods take.
  const apiFile = registry.getMessage([...capabilityMessages.keys()][0]).file;
  for (const message of apiFile.messages) {
    if (!capabilityMessages.has(message.typeName)) out.push(...messageSection(registry, message.typeName, usersOf(apiFile, message)));
  }
  out.push("### Host service messages", "");
  for (const [typeName, users] of hostMessages) out.push(...messageSection(registry, typeName, users));
  return `${out.join("\n").trimEnd()}\n`;
}

/** The messages holding `message` as a field. */
function usersOf(file, message) {
  return file.messages.filter((m) => m.fields.some((f) => f.message?.typeName === message.typeName)).map((m) => `[${m.name}](#${m.name.toLowerCase()})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(REFERENCE_FILE, renderReference());
  console.log(`wrote ${REFERENCE_FILE}`);
}
