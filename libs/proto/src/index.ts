/**
 * Generated protobuf types and descriptors. Everything under `gen/` is produced by `npm run gen`
 * from `proto/`; edit the .proto sources, never the generated files.
 */
export * as api from "./gen/navidrome/api/v1/api_pb.js";
export * as httpHost from "./gen/navidrome/host/http/v1/http_pb.js";
export * as configHost from "./gen/navidrome/host/config/v1/config_pb.js";
export * as schedulerHost from "./gen/navidrome/host/scheduler/v1/scheduler_pb.js";
export * as websocketHost from "./gen/navidrome/host/websocket/v1/websocket_pb.js";
export * as cacheHost from "./gen/navidrome/host/cache/v1/cache_pb.js";
export * as artworkHost from "./gen/navidrome/host/artwork/v1/artwork_pb.js";
export * as subsonicHost from "./gen/navidrome/host/subsonicapi/v1/subsonicapi_pb.js";
export * as bus from "./gen/bus/v1/bus_pb.js";
