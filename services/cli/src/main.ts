/** The `tonearm` command line. */
import { Command, Option } from "commander";
import { runCall, runPluginList, runStart } from "./commands.js";

const program = new Command()
  .name("tonearm")
  .description("A distributed host for Navidrome's WebAssembly plugins")
  .showHelpAfterError();

const configOption = new Option("-c, --config <file>", "TOML configuration file (Navidrome-style keys)").env("TONEARM_CONFIG");
const folderOption = new Option("-f, --folder <dir>", "plugins folder (default: Plugins.Folder of the config)");

const plugin = program.command("plugin").description("inspect the plugins folder");
plugin
  .command("list")
  .description("list the plugins of the folder, broken ones included")
  .addOption(configOption)
  .addOption(folderOption)
  .action(runPluginList);

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

await program.parseAsync();
