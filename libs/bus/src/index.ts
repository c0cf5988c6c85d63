/**
 * Tonearm's message bus: the `Bus` port with its two adapters (NATS via nats.js v3, and in-memory
 * for embedded mode), the names of every subject, bucket and stream, and the plugin-call protocol.
 */
export type {
  Bus,
  BusLogger,
  BusMessage,
  ConsumeOptions,
  ConsumerMessages,
  ConsumerInfo,
  ConsumerOptions,
  DurableConsumer,
  Headers,
  KeyValue,
  KvChange,
  KvEntry,
  KvOptions,
  KvWatch,
  MessageHandler,
  ObjectInfo,
  ObjectStore,
  PersistAck,
  PersistOptions,
  PublishOptions,
  RequestOptions,
  StreamMessage,
  StreamOptions,
  SubscribeOptions,
  Subscription,
} from "./types.js";
export { BusError, BusErrorCode } from "./errors.js";
export { connectNatsBus, type NatsBusOptions } from "./nats/bus.js";
export { natsAuthOptions, type NatsCredentials, type NatsTlsFiles } from "./nats/connect.js";
export { createMemoryBus, type MemoryBusOptions } from "./memory/bus.js";
export {
  GatewayMethod,
  ScrobbleKind,
  checkNamespace,
  decodeToken,
  encodeToken,
  storageNames,
  subjects,
  type CallTarget,
  type StorageNames,
  type Subjects,
} from "./subjects.js";
export {
  CallContentType,
  CallHeader,
  decodeCallReply,
  decodeCallRequest,
  encodeCallError,
  encodeCallReply,
  encodeCallRequest,
  type CallMetadata,
  type CallRequest,
  type WireMessage,
} from "./call-protocol.js";
export { DEFAULT_CALL_TIMEOUT_MS, callPlugin, type PluginCall } from "./call-client.js";
export { PluginState, recordCapabilities, watchPluginCatalog, workerVerifySubject, type PluginCatalog, type PluginRecord } from "./plugin-catalog.js";
export { createLease, type Lease, type LeaseOptions } from "./lease.js";
export {
  DEFAULT_SCROBBLE_RETENTION_MS,
  DeadLetterHeader,
  deadLetterHeaders,
  decodeScrobbleEvent,
  ensureScrobbleStreams,
  isScrobbler,
  publishScrobble,
  scrobbleStatus,
  type ScrobbleEvent,
  type ScrobbleEventInit,
  type ScrobbleStatus,
  type ScrobbleStreamOptions,
} from "./scrobbles.js";
