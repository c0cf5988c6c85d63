// The soak's end summary as Markdown, from the object written to bench/results/soak-latest.json.

const codes = (errors) =>
  Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`)
    .join(", ") || "none";

export function markdownSummary(result) {
  const { calls, scrobbles, websocket, schedules, machine, options } = result;
  const lines = [
    `## Soak, ${result.startedAt}`,
    "",
    `${options.minutes} min of load (+${result.drainSeconds} s drain) on ${machine.cpus} × ${machine.model}, ${machine.memoryGb} GiB, Node ${machine.node}; ` +
      `load average at the end ${machine.loadAverageAtEnd.join(" ")}. ${options.loops} call loops, ${options.scrobblesPerSecond} scrobbles/s, ` +
      (options.killEverySeconds > 0
        ? `every ${options.killEverySeconds} s SIGKILL of the worker delivering scrobbles and of the gateway (${result.kills.byRole.worker} and ${result.kills.byRole.gateway} kills).`
        : "no kills."),
    "",
    "| Check | Result |",
    "|---|---|",
    `| Calls | ${calls.total} (${calls.perSecond}/s), ok ${calls.ok}, errors: ${codes(calls.errors)} |`,
    `| Errors within a kill's window | ${codes(calls.errorsNearKill)} |`,
    `| Errors outside a kill's window | ${codes(outside(calls.errors, calls.errorsNearKill))} |`,
    `| Slowest call | ${calls.slowestMs} ms (deadline ${options.callTimeoutMs} ms) |`,
    `| Process crashes | ${result.processes.reduce((n, p) => n + p.crashes.length, 0)} |`,
    `| Scrobbles | ${scrobbles.published} published to ${Object.keys(scrobbles.plugins).length} plugins; ` +
      Object.entries(scrobbles.plugins)
        .map(([plugin, s]) => `${plugin} ${s.received} (duplicates ${s.duplicates})`)
        .join(", ") +
      `; lost after the drain: ${scrobbles.lost} |`,
    `| Schedules fired | ${
      Object.entries(schedules.fires)
        .map(([plugin, outcomes]) => `${plugin}: ${codes(outcomes)}`)
        .join("; ") || "none"
    } |`,
    `| WebSocket | ${websocket.connectionsOpened} connections opened, ${websocket.openAtEnd} open at the end, back after the last kill: ${websocket.backAfterLastKill ? "yes" : "no"}; ` +
      `seconds from each gateway kill to the next connection: ${websocket.reconnectSeconds.map((s) => s ?? "never").join(", ") || "no kills"} |`,
    "",
    `RSS (MiB), flat = ${result.rssFlatBound}:`,
    "",
    "| Process | Killed | Crashes | After warm-up | At end | Growth | Flat |",
    "|---|---|---|---|---|---|---|",
    ...result.processes.map((p) =>
      p.rss.maxMbPerProcess !== undefined
        ? `| ${p.name} | ${p.killed} | ${p.crashes.length} | — | — | highest of each of its ${p.incarnations} processes: ${p.rss.maxMbPerProcess.join(", ")} | — |`
        : `| ${p.name} | ${p.killed} | ${p.crashes.length} | ${p.rss.afterWarmupMb ?? "—"} | ${p.rss.atEndMb ?? "—"} | ${p.rss.growthMb ?? "—"} | ${flat(p.rss.flat)} |`,
    ),
    `| load driver | 0 | 0 | ${result.driverRss.afterWarmupMb ?? "—"} | ${result.driverRss.atEndMb ?? "—"} | ${result.driverRss.growthMb ?? "—"} | ${flat(result.driverRss.flat)} |`,
    "",
    result.failures.length === 0 ? "**Passed.**" : `**Failed:** ${result.failures.join("; ")}.`,
  ];
  return lines.join("\n");
}

const outside = (all, near) => Object.fromEntries(Object.entries(all).map(([code, n]) => [code, n - (near[code] ?? 0)]).filter(([, n]) => n > 0));

const flat = (value) => (value === undefined ? "—" : value ? "yes" : "**no**");
