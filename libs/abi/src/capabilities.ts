import type { DescMessage, DescService } from "@bufbuild/protobuf";
import { api } from "@tonearm/proto";
import { toSnakeCase } from "./names.js";

/** The plugin-side services of api.proto, keyed by the capability name used in manifests. */
const CAPABILITY_SERVICES = {
  MetadataAgent: api.MetadataAgent,
  Scrobbler: api.Scrobbler,
  SchedulerCallback: api.SchedulerCallback,
  LifecycleManagement: api.LifecycleManagement,
  WebSocketCallback: api.WebSocketCallback,
} as const satisfies Record<string, DescService>;

export type Capability = keyof typeof CAPABILITY_SERVICES;

/** Capability names in manifest order (the order of Navidrome's schema enum). */
export const CAPABILITIES: readonly Capability[] = Object.freeze(
  Object.keys(CAPABILITY_SERVICES) as Capability[],
);

/** The API version every capability of this ABI generation reports through `<svc>_api_version`. */
export const HOST_API_VERSION = 1n;

export function isCapability(name: string): name is Capability {
  return Object.hasOwn(CAPABILITY_SERVICES, name);
}

export interface CapabilityMethod {
  readonly capability: Capability;
  /** The RPC name as in api.proto, e.g. `GetArtistMBID`. */
  readonly method: string;
  /** The guest export, e.g. `metadata_agent_get_artist_mbid`. */
  readonly exportName: string;
  readonly input: DescMessage;
  readonly output: DescMessage;
}

export interface CapabilityDescriptor {
  readonly name: Capability;
  readonly service: DescService;
  /** e.g. `metadata_agent_api_version`. */
  readonly versionExport: string;
  readonly methods: readonly CapabilityMethod[];
}

function describe(name: Capability): CapabilityDescriptor {
  const service = CAPABILITY_SERVICES[name];
  const prefix = toSnakeCase(name);
  return Object.freeze({
    name,
    service,
    versionExport: `${prefix}_api_version`,
    methods: Object.freeze(
      service.methods.map((m) =>
        Object.freeze({
          capability: name,
          method: m.name,
          exportName: toSnakeCase(name + m.name),
          input: m.input,
          output: m.output,
        }),
      ),
    ),
  });
}

const DESCRIPTORS = new Map<Capability, CapabilityDescriptor>(CAPABILITIES.map((c) => [c, describe(c)]));

export function capability(name: Capability): CapabilityDescriptor {
  const d = DESCRIPTORS.get(name);
  if (!d) throw new Error(`unknown capability ${name}`);
  return d;
}

/** Finds a method by capability and RPC name (`MetadataAgent`, `GetArtistMBID`). */
export function findMethod(cap: string, method: string): CapabilityMethod | undefined {
  if (!isCapability(cap)) return undefined;
  return capability(cap).methods.find((m) => m.method === method);
}
