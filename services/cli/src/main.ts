/** The `tonearm` command line. */
import { Command, Option } from "commander";
import { runCall, runPluginList, runStart } from "./commands.js";
import {
  runPluginDev,
  runPluginInfo,
  runPluginInstall,
  runPluginPack,
  runPluginRefresh,
  runPluginRemove,
  runPluginUpdate,
  type PackOptions,
  type PluginCommandOptions,
} from "./plugin-commands.js";
import { registerScrobbleCommands } from "./scrobble-commands.js";

const program = new Command()
  .name("tonearm")
  .description("A distributed host for Navidrome's WebAssembly plugins")
  .showHelpAfterError();

const configOption = new Option("-c, --config <file>", "TOML configuration file (Navidrome-style keys)").env("TONEARM_CONFIG");
const folderOption = new Option("-f, --folder <dir>", "plugins folder (default: Plugins.Folder of the config)");

const plugin = program.command("plugin").description("manage the plugins folder, or the plugins of a running cluster");
plugin
  .command("list")
  .description("list the plugins of the folder, broken ones included")
  .addOption(configOption)
  .addOption(folderOption)
  .action(runPluginList);

// Options of the commands that change plugins, locally or in a running cluster.
const clusterOptions = (command: Command): Command =>
  command
    .addOption(configOption)
    .addOption(folderOption)
    .option("--nats <servers>", "change the plugins of a running cluster through these NATS servers (comma-separated)")
    .option("--namespace <ns>", "the cluster's namespace (default: the config's)")
    .option("-t, --timeout <ms>", "how long the cluster's registry may take to answer (default: 120000)", (v) => Number.parseInt(v, 10))
    .option("--progress", "report progress on stderr (default: when stderr is a terminal)")
    .option("--no-progress", "never report progress");

plugin
  .command("info")
  .description("show the details of an installed plugin or of a .ndp package")
  .addOption(configOption)
  .addOption(folderOption)
  .argument("<plugin>", "a plugin id (folder name) or a .ndp file")
  .action(async (target: string, options: PluginCommandOptions) => void (process.exitCode = await runPluginInfo(target, options)));
clusterOptions(plugin.command("install").description("install a plugin from a .ndp package"))
  .argument("<package>", "the .ndp file")
  .action(async (file: string, options: PluginCommandOptions) => void (process.exitCode = await runPluginInstall(file, options)));
clusterOptions(plugin.command("update").description("replace an installed plugin with the version in a .ndp package"))
  .argument("<package>", "the .ndp file")
  .action(async (file: string, options: PluginCommandOptions) => void (process.exitCode = await runPluginUpdate(file, options)));
clusterOptions(plugin.command("remove").description("remove a plugin (a development symlink: only the link)"))
  .argument("<plugin>", "the plugin id (folder name)")
  .action(async (id: string, options: PluginCommandOptions) => void (process.exitCode = await runPluginRemove(id, options)));
clusterOptions(plugin.command("refresh").description("reload a plugin, or every plugin, after its files changed"))
  .argument("[plugin]", "the plugin id (folder name); all plugins when left out")
  .action(async (id: string | undefined, options: PluginCommandOptions) => void (process.exitCode = await runPluginRefresh(id, options)));
plugin
  .command("dev")
  .description("link a plugin development folder into the plugins folder")
  .addOption(configOption)
  .addOption(folderOption)
  .argument("<folder>", "the development folder, holding manifest.json")
  .action(async (source: string, options: PluginCommandOptions) => void (process.exitCode = await runPluginDev(source, options)));
plugin
  .command("pack")
  .description("write a .ndp package of a plugin folder (manifest.json, plugin.wasm, README and LICENSE)")
  .option("-o, --output <file>", "the package file (default: <plugin name>.ndp here)")
  .argument("<folder>", "the plugin folder")
  .action(async (dir: string, options: PackOptions) => void (process.exitCode = await runPluginPack(dir, options)));

program
  .command("call")
  .description("call one plugin method and print the response as protobuf JSON")
  .addOption(configOption)
  .addOption(folderOption)
  .option("-t, --timeout <ms>", "call deadline in milliseconds", (v) => Number.parseInt(v, 10))
  .addOption(new Option("--nats <servers>", "call through a running cluster on these NATS servers (comma-separated)").conflicts("url"))
  .option("--namespace <ns>", "the cluster's namespace (default: the config's)")
  .option("--url <base>", "call through the HTTP endpoint of a running `tonearm start`")
  .argument("<pluginId>", "the plugin's folder name")
  .argument("<method>", "<Capability>/<Method>, e.g. MetadataAgent/GetArtistMBID")
  .argument("[json]", "the request as protobuf JSON", "{}")
  .action(runCall);

program
  .command("start")
  .description("run Tonearm: every role on in-memory drivers, or the chosen roles on NATS + Redis (mode = cluster)")
  .addOption(configOption)
  .addOption(folderOption)
  .option("-r, --role <roles>", "comma-separated roles: registry, worker, scheduler, gateway (default: all)")
  .option("-p, --port <port>", "operations port: /healthz, /readyz, /metrics, /v1/call (default: [metrics] port, else a free one)", (v) => Number.parseInt(v, 10))
  .option("--host <address>", "address the operations port listens on (default: all)")
  .action(runStart);

registerScrobbleCommands(program);

await program.parseAsync();
