// Preloaded into profiled processes (see workerNodeArgs): a process writes its --cpu-prof profile
// only when it exits by itself, so once SIGTERM has let it stop its work, it is ended 2 s later
// whatever handles it still holds, before the benchmark's SIGKILL at 5 s.
import process from "node:process";
import { setTimeout } from "node:timers";

process.on("SIGTERM", () => setTimeout(() => process.exit(0), 2_000).unref());
