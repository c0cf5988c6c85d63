/**
 * The plugin commands against a running cluster: requests to the active registry over NATS
 * (`registry.install|remove|refresh`, see services/registry), packages uploaded through the
 * object store first.
 */
import { createHash, randomBytes } from "node:crypto";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import { BusError, connectNatsBus, decodeCallReply, encodeCallRequest, subjects, type Bus } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import { packageUploadStore } from "@tonearm/registry";

export const DEFAULT_REGISTRY_TIMEOUT_MS = 120_000;

export interface ClusterOptions {
  /** NATS servers, comma-separated. */
  readonly servers: string;
  readonly namespace: string;
  /** How long the registry may take to answer (it waits for workers to verify). */
  readonly timeoutMs: number;
}

export class RegistryClient {
  readonly #bus: Bus;
  readonly #namespace: string;
  readonly #timeoutMs: number;

  protected constructor(bus: Bus, options: ClusterOptions) {
    this.#bus = bus;
    this.#namespace = options.namespace;
    this.#timeoutMs = options.timeoutMs;
  }

  static async connect(options: ClusterOptions): Promise<RegistryClient> {
    let bus: Bus;
    try {
      bus = await connectNatsBus({ servers: options.servers.split(","), namespace: options.namespace, name: "tonearm-plugin", waitForServer: false });
    } catch (err) {
      throw new CallError("unavailable", `cannot connect to NATS at ${options.servers}: ${(err as Error).message}`, { cause: err });
    }
    return new RegistryClient(bus, options);
  }

  /** Uploads a package and has the registry install (or update) it; resolves with its record. */
  async install(bytes: Uint8Array, update: boolean): Promise<busProto.PluginRecord> {
    const store = await this.#bus.objects(packageUploadStore(this.#namespace));
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const name = `${sha256}-${randomBytes(6).toString("hex")}`;
    await store.put(name, bytes);
    try {
      const { InstallPackageRequestSchema, InstallPackageResponseSchema } = busProto;
      const request = { packageObject: name, packageSha256: sha256, update };
      const reply = await this.#ask(subjects(this.#namespace).registryInstall, InstallPackageRequestSchema, request, InstallPackageResponseSchema);
      if (reply.record === undefined) throw new CallError("unavailable", "the registry answered without the plugin's record");
      return reply.record;
    } finally {
      // The registry deletes what it read; this covers a request it never got.
      await store.delete(name).catch(() => undefined);
    }
  }

  remove(id: string): Promise<busProto.RemovePluginResponse> {
    const { RemovePluginRequestSchema, RemovePluginResponseSchema } = busProto;
    return this.#ask(subjects(this.#namespace).registryRemove, RemovePluginRequestSchema, { id }, RemovePluginResponseSchema);
  }

  /** Refreshes one plugin, or every plugin when `id` is undefined. */
  async refresh(id: string | undefined): Promise<busProto.PluginRecord[]> {
    const { RefreshRequestSchema, RefreshResponseSchema } = busProto;
    const reply = await this.#ask(subjects(this.#namespace).registryRefresh, RefreshRequestSchema, { id: id ?? "" }, RefreshResponseSchema);
    return reply.plugins;
  }

  close(): Promise<void> {
    return this.#bus.close();
  }

  async #ask<I extends DescMessage, O extends DescMessage>(
    subject: string,
    input: I,
    message: MessageInitShape<I>,
    output: O,
  ): Promise<MessageShape<O>> {
    const wire = encodeCallRequest(toBinary(input, create(input, message)), { deadlineMs: Date.now() + this.#timeoutMs, caller: "cli" });
    let reply;
    try {
      reply = await this.#bus.request(subject, wire.data, { timeoutMs: this.#timeoutMs, headers: wire.headers });
    } catch (err) {
      if (BusError.is(err, "no_responders")) {
        throw new CallError("unavailable", `no active registry answers in namespace "${this.#namespace}"`, { cause: err });
      }
      if (BusError.is(err, "timeout")) {
        throw new CallError("timeout", `the registry did not answer within ${this.#timeoutMs} ms`, { cause: err });
      }
      throw err;
    }
    return fromBinary(output, decodeCallReply(reply));
  }
}

/** Connects, runs `work`, and closes the connection whatever happens. */
export async function withRegistry<T>(options: ClusterOptions, work: (client: RegistryClient) => Promise<T>): Promise<T> {
  const client = await RegistryClient.connect(options);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
