// The soak's processes: one slot per process of the cluster (registry, workers, scheduler, gateway),
// each restarted after our SIGKILL or after a crash. A crash is an exit we did not cause.
import { rssMb } from "../lib/cluster.mjs";

export class ProcessSlot {
  /** One entry per OS process this slot ran: pid, start time, RSS samples, how it ended. */
  incarnations = [];
  crashes = [];
  kills = 0;
  #current;
  #killing = new Set();
  #restarting = false;
  #stopping = false;

  constructor(cluster, name, role, { restartAfterMs, log, env = {} }) {
    this.cluster = cluster;
    this.env = env;
    this.name = name;
    this.role = role;
    this.restartAfterMs = restartAfterMs;
    this.log = log;
  }

  get pid() {
    return this.#current?.child.pid;
  }

  get port() {
    return this.#current?.port;
  }

  get running() {
    return this.#current !== undefined;
  }

  async start() {
    const started = await this.cluster.start(this.role, this.env);
    const incarnation = { pid: started.child.pid, startedAtMs: Date.now(), rss: [], exit: undefined };
    this.incarnations.push(incarnation);
    this.#current = started;
    started.child.once("exit", (code, signal) => this.#exited(started, incarnation, code, signal));
    // Gone between ready and here: the exit event has passed already.
    if (started.child.exitCode !== null || started.child.signalCode !== null) {
      this.#exited(started, incarnation, started.child.exitCode, started.child.signalCode);
    }
  }

  /** SIGKILL now, started again after `restartAfterMs`. */
  kill() {
    const started = this.#current;
    if (started === undefined) return false;
    this.#killing.add(started.child);
    this.kills++;
    started.child.kill("SIGKILL");
    return true;
  }

  /** No more restarts: the cluster is being stopped on purpose. */
  stopping() {
    this.#stopping = true;
  }

  async sampleRss(elapsedMs) {
    const pid = this.pid;
    const incarnation = this.incarnations.at(-1);
    if (pid === undefined || incarnation === undefined || incarnation.exit !== undefined) return undefined;
    // Killed and not yet reaped, the process has no VmRSS line any more.
    const mb = await rssMb(pid).catch(() => NaN);
    if (Number.isNaN(mb)) return undefined;
    incarnation.rss.push({ elapsedMs, mb });
    return mb;
  }

  #exited(started, incarnation, code, signal) {
    incarnation.exit = { code, signal, atMs: Date.now() };
    if (this.#current === started) this.#current = undefined;
    const ours = this.#killing.delete(started.child) || this.#stopping;
    if (!ours) {
      this.crashes.push({ pid: started.child.pid, code, signal, atMs: Date.now(), output: started.output.slice(-4_000) });
      this.log(`CRASH ${this.name} (pid ${started.child.pid}) exited with ${signal ?? `code ${code}`}\n${started.output.slice(-2_000)}`);
    }
    if (!this.#stopping) void this.#restartLater();
  }

  async #restartLater() {
    if (this.#restarting) return;
    this.#restarting = true;
    await new Promise((resolve) => setTimeout(resolve, this.restartAfterMs));
    // A start that fails (the cluster is unhealthy) is retried until the run stops.
    while (!this.#stopping && this.#current === undefined) {
      try {
        await this.start();
      } catch (err) {
        this.log(`${this.name} did not start again: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
    this.#restarting = false;
  }
}
