/**
 * The registry's request-reply subjects, answered by the active registry only (queue `registry`,
 * so a brief overlap during a handover still answers each request once).
 *
 *   registry.list     ListPluginsRequest → ListPluginsResponse (every record but tombstones)
 *   registry.get      GetPluginRequest   → PluginRecord, or `not_found`
 *   registry.refresh  RefreshRequest     → RefreshResponse (rescans first; `not_found` for an id
 *                                          neither in the folder nor on record)
 *   registry.install  InstallPackageRequest → InstallPackageResponse (see package-requests.ts)
 *   registry.remove   RemovePluginRequest   → RemovePluginResponse (see package-requests.ts)
 *
 * Requests and replies follow the call protocol: protobuf by default, the JSON mapping with
 * `Content-Type: application/json`, errors as `Tonearm-Error-Code` / `Tonearm-Error-Message`.
 */
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import {
  decodeCallRequest,
  encodeCallError,
  encodeCallReply,
  subjects,
  type Bus,
  type BusMessage,
  type Subscription,
} from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import type { Logger } from "@tonearm/telemetry";

export interface RegistryRequestHandlers {
  list(): busProto.PluginRecord[];
  get(id: string): busProto.PluginRecord | undefined;
  /** Throws `CallError` `not_found` for an unknown id. */
  refresh(id: string | undefined): Promise<busProto.PluginRecord[]>;
  /** Throws `CallError`s; see package-requests.ts. */
  install(request: busProto.InstallPackageRequest): Promise<busProto.PluginRecord>;
  /** Throws `CallError`s; see package-requests.ts. */
  remove(id: string): Promise<{ readonly id: string; readonly symlink: boolean }>;
}

const QUEUE = "registry";

export function serveRegistryRequests(
  bus: Bus,
  namespace: string,
  handlers: RegistryRequestHandlers,
  logger: Logger,
): Subscription[] {
  const names = subjects(namespace);
  const { ListPluginsRequestSchema, ListPluginsResponseSchema, GetPluginRequestSchema, PluginRecordSchema } = busProto;
  const { RefreshRequestSchema, RefreshResponseSchema } = busProto;
  const { InstallPackageRequestSchema, InstallPackageResponseSchema, RemovePluginRequestSchema, RemovePluginResponseSchema } = busProto;
  return [
    answer(bus, logger, names.registryList, ListPluginsRequestSchema, ListPluginsResponseSchema, () =>
      create(ListPluginsResponseSchema, { plugins: handlers.list() }),
    ),
    answer(bus, logger, names.registryGet, GetPluginRequestSchema, PluginRecordSchema, (request) => {
      if (request.id === "") throw new CallError("bad_request", "GetPluginRequest.id must name a plugin");
      const record = handlers.get(request.id);
      if (record === undefined) throw new CallError("not_found", notFoundText(request.id));
      return record;
    }),
    answer(bus, logger, names.registryRefresh, RefreshRequestSchema, RefreshResponseSchema, async (request) =>
      create(RefreshResponseSchema, { plugins: await handlers.refresh(request.id === "" ? undefined : request.id) }),
    ),
    answer(bus, logger, names.registryInstall, InstallPackageRequestSchema, InstallPackageResponseSchema, async (request) =>
      create(InstallPackageResponseSchema, { record: await handlers.install(request) }),
    ),
    answer(bus, logger, names.registryRemove, RemovePluginRequestSchema, RemovePluginResponseSchema, async (request) => {
      const removed = await handlers.remove(request.id);
      return create(RemovePluginResponseSchema, { id: removed.id, symlink: removed.symlink });
    }),
  ];
}

/** Navidrome's text for an unknown plugin id. */
export function notFoundText(id: string): string {
  return `plugin not found: ${id}`;
}

function answer<I extends DescMessage, O extends DescMessage>(
  bus: Bus,
  logger: Logger,
  subject: string,
  input: I,
  output: O,
  handle: (request: MessageShape<I>) => MessageShape<O> | Promise<MessageShape<O>>,
): Subscription {
  return bus.subscribe(subject, { queue: QUEUE }, async (message: BusMessage) => {
    let reply;
    try {
      const request = decodeCallRequest(message, input);
      const decoded = fromBinaryChecked(input, request.request);
      const response = await handle(decoded);
      reply = encodeCallReply(toBinary(output, response), request.contentType, output);
    } catch (err) {
      if (!(err instanceof CallError)) logger.error({ err, subject }, "registry request failed");
      reply = encodeCallError(
        err instanceof CallError ? err : new CallError("unavailable", `the registry could not answer: ${describe(err)}`),
      );
    }
    bus.respond(message, reply.data, { headers: reply.headers });
  });
}

function fromBinaryChecked<I extends DescMessage>(schema: I, data: Uint8Array): MessageShape<I> {
  try {
    return fromBinary(schema, data);
  } catch (err) {
    throw new CallError("bad_request", `the request is not a valid ${schema.typeName}: ${describe(err)}`, { cause: err });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
