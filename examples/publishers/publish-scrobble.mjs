#!/usr/bin/env node
// Publishes one scrobble the way a music server does: a ScrobbleEvent in the protobuf JSON mapping
// on JetStream, its event id as Nats-Msg-Id so a retried publish is stored once. Uses plain
// nats.js, no Tonearm code, to show what a publisher in any language sends.
//
//   NATS_URL=nats://127.0.0.1:4222 TONEARM_NAMESPACE=default \
//     node examples/publishers/publish-scrobble.mjs <user-id> <track-id> [submit|nowplaying] [position]
import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";

const [userId, trackId, kind = "submit", position = "0"] = process.argv.slice(2);
if (!userId || !trackId || !["submit", "nowplaying"].includes(kind)) {
  console.error("usage: publish-scrobble.mjs <user-id> <track-id> [submit|nowplaying] [position]");
  process.exit(2);
}
const namespace = process.env.TONEARM_NAMESPACE ?? "default";
// Subject tokens carry ids escaped: characters other than letters, digits, - and _ become =XX per UTF-8 byte.
const token = (value) =>
  [...value].map((c) => (/^[A-Za-z0-9_-]$/.test(c) ? c : [...new TextEncoder().encode(c)].map((b) => `=${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""))).join("");

const event = {
  kind: kind === "submit" ? "KIND_SUBMIT" : "KIND_NOW_PLAYING",
  userId,
  username: process.env.SCROBBLE_USERNAME ?? userId,
  playerId: "publish-scrobble.mjs",
  track: { id: trackId, name: `Track ${trackId}`, artists: [{ name: "Some Artist" }], length: 240 },
  timestamp: String(Math.floor(Date.now() / 1000)),
  position: Number(position),
  eventId: process.env.SCROBBLE_EVENT_ID ?? randomUUID(),
};

const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
try {
  const h = headers();
  h.set("Content-Type", "application/json");
  const ack = await jetstream(nc).publish(`tonearm.${namespace}.scrobble.${kind}.${token(userId)}`, JSON.stringify(event), {
    headers: h,
    msgID: event.eventId,
  });
  console.log(JSON.stringify({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate, eventId: event.eventId }));
} finally {
  await nc.close();
}
