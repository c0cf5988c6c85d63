/**
 * Installing, updating and removing plugins of a running cluster: the active registry changes its
 * own plugins folder and reloads the plugin, so workers pick the change up with nothing restarted.
 *
 *   registry.install  InstallPackageRequest → InstallPackageResponse
 *     The client first puts the `.ndp` bytes into the object store `packageUploadStore(ns)`; the
 *     registry reads and deletes that object, checks its SHA-256 and every entry (libs/packages),
 *     installs it beside the other plugins, and refreshes it: the reply carries the record once a
 *     worker verified the version (and OnInit ran). A version that fails is rolled back (update:
 *     the previous version is restored and republished) and answered `load_error`.
 *     Errors: `bad_request` (missing or altered upload, hostile or invalid package, already
 *     installed), `not_found` (update of a plugin that is not installed), `load_error`.
 *   registry.remove   RemovePluginRequest → RemovePluginResponse
 *     Removes the folder (a development symlink: only the link); the record becomes a tombstone,
 *     so calls answer `not_found`. Errors: `bad_request` (not one folder name, not a plugin
 *     directory), `not_found` (no such plugin).
 */
import { createHash } from "node:crypto";
import { CallError, type CallErrorCode } from "@tonearm/abi";
import { storageNames, type Bus } from "@tonearm/bus";
import {
  PackageError,
  PackageFailure,
  installPackage,
  pluginFolderName,
  readPackage,
  removePlugin,
  type PluginPackage,
  type RemovedPlugin,
} from "@tonearm/packages";
import { bus as busProto } from "@tonearm/proto";
import type { Logger } from "@tonearm/telemetry";
import { KeyedSerial } from "./serial.js";

const { PluginState } = busProto;
type PluginRecord = busProto.PluginRecord;

/** The object store clients upload packages to for `registry.install`. */
export function packageUploadStore(namespace: string): string {
  return storageNames(namespace).bucket("packages");
}

export interface PackageRequestOptions {
  readonly bus: Bus;
  readonly namespace: string;
  /** The registry's plugins folder. */
  readonly folder: string;
  /** The registry's refresh of one plugin: resolves with the records it touched. */
  readonly refresh: (id: string) => Promise<PluginRecord[]>;
  readonly logger: Logger;
}

export interface PackageRequestHandlers {
  /** Resolves with the installed plugin's record; throws `CallError`s. */
  install(request: busProto.InstallPackageRequest): Promise<PluginRecord>;
  /** Throws `CallError`s. */
  remove(id: string): Promise<RemovedPlugin>;
}

export function packageRequestHandlers(options: PackageRequestOptions): PackageRequestHandlers {
  const { bus, namespace, folder, refresh, logger } = options;
  // One change of the folder at a time: two installs of one name must not race for its folder.
  const changes = new KeyedSerial();

  /** The plugin's record after a refresh, or a rejection with the reason it failed. */
  async function loaded(id: string): Promise<PluginRecord> {
    const record = (await refresh(id)).find((r) => r.id === id);
    if (record === undefined) throw new Error(`the registry has no record of ${id} after reloading it`);
    if (record.state === PluginState.FAILED) throw new Error(record.error);
    return record;
  }

  /** Republishes what the folder holds after a rollback; the rollback's error is what the client hears. */
  async function republish(id: string): Promise<void> {
    try {
      await refresh(id);
    } catch (err) {
      logger.warn({ err, plugin: id }, "could not reload a plugin after rolling back its install");
    }
  }

  return {
    async install(request) {
      const pkg = await fetchPackage(bus, namespace, request, logger);
      return changes.run("folder", async () => {
        let record: PluginRecord | undefined;
        try {
          const installed = await installPackage(folder, pkg, {
            mode: request.update ? "update" : "install",
            verify: async ({ id }) => {
              record = await loaded(id);
            },
          });
          logger.info({ plugin: installed.id, version: installed.manifest.version, update: request.update }, "plugin package installed");
        } catch (err) {
          if (err instanceof PackageError && err.code === PackageFailure.Rejected) await republish(pluginFolderName(pkg.manifest.name));
          throw toCallError(err);
        }
        return record!;
      });
    },

    async remove(id) {
      return changes.run("folder", async () => {
        let removed: RemovedPlugin;
        try {
          removed = await removePlugin(folder, id);
        } catch (err) {
          throw toCallError(err);
        }
        logger.info({ plugin: id, symlink: removed.symlink }, "plugin removed");
        try {
          await refresh(id);
        } catch (err) {
          // Never published (e.g. removed before the first scan): there is no record to retire.
          if (!(err instanceof CallError && err.code === "not_found")) throw err;
        }
        return removed;
      });
    },
  };
}

async function fetchPackage(bus: Bus, namespace: string, request: busProto.InstallPackageRequest, logger: Logger): Promise<PluginPackage> {
  const name = request.packageObject;
  if (name === "") throw new CallError("bad_request", "InstallPackageRequest.package_object must name the uploaded package");
  if (!/^[0-9a-f]{64}$/.test(request.packageSha256)) {
    throw new CallError("bad_request", "InstallPackageRequest.package_sha256 must be the package's lower-case hex SHA-256");
  }
  const store = await bus.objects(packageUploadStore(namespace));
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(name);
  } finally {
    // Consumed either way; a client that crashed before the reply leaves nothing behind either.
    await store.delete(name).catch((err: unknown) => logger.warn({ err, object: name }, "could not delete an uploaded package"));
  }
  if (bytes === undefined) throw new CallError("bad_request", `no uploaded package named ${name} in ${store.bucket}`);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== request.packageSha256) {
    throw new CallError("bad_request", `the uploaded package's SHA-256 is ${sha256}, not ${request.packageSha256} as the request says`);
  }
  try {
    return await readPackage(bytes);
  } catch (err) {
    throw toCallError(err);
  }
}

const CODES: Partial<Record<PackageFailure, CallErrorCode>> = {
  [PackageFailure.PluginNotFound]: "not_found",
  [PackageFailure.Rejected]: "load_error",
};

function toCallError(err: unknown): unknown {
  if (!(err instanceof PackageError)) return err;
  return new CallError(CODES[err.code] ?? "bad_request", err.message, { cause: err });
}
