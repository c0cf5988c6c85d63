/**
 * The status page as one server-rendered HTML document: no assets, no build step. A few lines of
 * inline script fetch the page again every few seconds and swap its <main>, so it stays current
 * without reloading (a meta refresh does it when scripts are off). Every value from plugins,
 * manifests or the bus is escaped.
 *
 * Rows carry `data-plugin` / `data-field` attributes so scripts and tests can find a figure.
 */
import type { Availability, CallFigures, PluginStatus, StatusSnapshot } from "./status-model.js";

export interface RenderOptions {
  /** Seconds between refreshes; 0 turns them off. */
  readonly refreshSeconds: number;
}

export function renderStatusPage(status: StatusSnapshot, options: RenderOptions): string {
  const refresh = options.refreshSeconds;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tonearm status · ${esc(status.namespace)}</title>
${refresh > 0 ? `<noscript><meta http-equiv="refresh" content="${refresh}"></noscript>` : ""}
<style>${STYLE}</style>
</head>
<body data-refresh="${refresh}">
${renderMain(status)}
${refresh > 0 ? `<script>${REFRESH_SCRIPT}</script>` : ""}
</body>
</html>
`;
}

function renderMain(s: StatusSnapshot): string {
  return `<main>
<header>
<h1>Tonearm <span class="ns">${esc(s.namespace)}</span></h1>
<p class="meta">Updated ${time(s.generatedAtMs, s.generatedAtMs)} · ${registryLine(s)} · rates and latency over the last ${s.windowSeconds} s</p>
${summary(s)}
</header>
<section id="plugins"><h2>Plugins</h2>${pluginsTable(s)}</section>
<section id="methods"><h2>Calls by method</h2>${methodsTable(s)}</section>
<section id="schedules"><h2>Schedules</h2>${schedulesTable(s)}</section>
<section id="websockets"><h2>WebSocket connections</h2>${connectionsTable(s)}</section>
<section id="scrobbles"><h2>Scrobble consumers</h2>${scrobblesTable(s)}</section>
<section id="workers"><h2>Workers</h2>${workersTable(s)}</section>
</main>`;
}

function registryLine(s: StatusSnapshot): string {
  const { registry } = s;
  const holder = registry.activeRegistry === null ? "no active registry" : `active registry <code>${esc(registry.activeRegistry)}</code>`;
  return `${holder}${registry.serving ? " (this one)" : " (this one is on standby)"}`;
}

function summary(s: StatusSnapshot): string {
  const states = new Map<string, number>();
  for (const p of s.plugins) states.set(p.state, (states.get(p.state) ?? 0) + 1);
  const rate = s.plugins.reduce((total, p) => total + (p.calls.callsPerSecond ?? 0), 0);
  const items = [
    ...[...states].map(([state, n]) => `<li><span class="state ${esc(state)}">${esc(state)}</span> ${n}</li>`),
    `<li data-field="workers">${s.workers.length} worker${s.workers.length === 1 ? "" : "s"}</li>`,
    `<li data-field="call-rate">${rateText(rate)} calls</li>`,
    `<li data-field="connections">${count(s.websockets)} WebSocket connection${count(s.websockets) === "1" ? "" : "s"}</li>`,
    `<li data-field="schedule-count">${count(s.schedules)} schedule${count(s.schedules) === "1" ? "" : "s"}</li>`,
  ];
  return `<ul class="summary">${items.join("")}</ul>`;
}

function pluginsTable(s: StatusSnapshot): string {
  if (s.plugins.length === 0) return `<p class="empty">No plugin is published.</p>`;
  const head = row("th", ["Plugin", "State", "Version", "Capabilities", "Permissions", "Calls", "Calls/s", "Errors/s", "p50", "p99"]);
  const rows = s.plugins.map((p) => {
    const main = `<tr data-plugin="${esc(p.id)}">
<td data-field="id"><strong>${esc(p.id)}</strong>${p.manifest ? `<div class="sub">${esc(p.manifest.name)} ${esc(p.manifest.version)} · ${esc(p.manifest.author)}</div>` : ""}</td>
<td data-field="state"><span class="state ${esc(p.state)}">${esc(p.state)}</span></td>
<td data-field="version">${versionCell(p, s.generatedAtMs)}</td>
<td data-field="capabilities">${p.capabilities.map((c) => `<span class="tag">${esc(c)}</span>`).join(" ") || "—"}</td>
<td data-field="permissions">${permissionsCell(p)}</td>
${figureCells(p.calls)}
</tr>`;
    const error = p.error === "" ? "" : `<tr class="error-row" data-plugin-error="${esc(p.id)}"><td colspan="10" data-field="error">⚠ ${esc(p.error)}</td></tr>`;
    return main + error;
  });
  return `<table class="plugins"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>`;
}

function versionCell(p: PluginStatus, now: number): string {
  if (p.sha256 === "") return `record v${p.recordVersion} · ${time(p.updatedAtMs, now)}`;
  return `<code title="${esc(p.sha256)}">${esc(p.sha256.slice(0, 12))}</code> · record v${p.recordVersion}<div class="sub">updated ${time(p.updatedAtMs, now)}</div>`;
}

function permissionsCell(p: PluginStatus): string {
  if (p.permissions.length === 0) return "—";
  const items = p.permissions.map(
    (perm) =>
      `<li data-permission="${esc(perm.key)}"><strong>${esc(perm.key)}</strong>: ${esc(perm.reason)}${
        perm.details.length > 0 ? `<details class="sub"><summary>details</summary>${perm.details.map((line) => `<div class="detail">${esc(line)}</div>`).join("")}</details>` : ""
      }</li>`,
  );
  return `<ul class="permissions">${items.join("")}</ul>`;
}

function figureCells(f: CallFigures): string {
  const errors = f.errorsPerSecond === null ? "—" : `${rateText(f.errorsPerSecond)}${f.errorRatio === null ? "" : ` <span class="sub">(${percent(f.errorRatio)})</span>`}`;
  return [
    `<td class="num" data-field="calls">${f.calls}${f.errors > 0 ? ` <span class="bad">(${f.errors} failed)</span>` : ""}</td>`,
    `<td class="num" data-field="calls-per-second">${f.callsPerSecond === null ? "—" : rateText(f.callsPerSecond)}</td>`,
    `<td class="num${(f.errorRatio ?? 0) > 0 ? " bad" : ""}" data-field="errors-per-second">${errors}</td>`,
    `<td class="num" data-field="p50">${msText(f.p50Ms)}</td>`,
    `<td class="num" data-field="p99">${msText(f.p99Ms)}</td>`,
  ].join("\n");
}

function methodsTable(s: StatusSnapshot): string {
  const rows = s.plugins.flatMap((p) =>
    p.methods.map(
      (m) => `<tr data-plugin="${esc(p.id)}" data-method="${esc(`${m.capability}/${m.method}`)}">
<td>${esc(p.id)}</td><td><code>${esc(m.capability)}/${esc(m.method)}</code></td>
${figureCells(m)}
</tr>`,
    ),
  );
  if (rows.length === 0) return `<p class="empty">No calls reported by the workers yet.</p>`;
  const head = row("th", ["Plugin", "Method", "Calls", "Calls/s", "Errors/s", "p50", "p99"]);
  return `<table><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>`;
}

function schedulesTable(s: StatusSnapshot): string {
  return section(s.schedules, "No schedule is waiting.", ["Plugin", "Schedule id", "Kind", "Expression", "Next firing"], (item) =>
    `<tr data-plugin="${esc(item.plugin)}" data-schedule="${esc(item.scheduleId)}">
<td>${esc(item.plugin)}</td><td><code>${esc(item.scheduleId)}</code></td><td data-field="kind">${esc(item.kind)}</td>
<td data-field="expression"><code>${esc(item.expression) || "—"}</code></td><td data-field="next">${item.nextFireMs === null ? "—" : time(item.nextFireMs, s.generatedAtMs)}</td>
</tr>`,
  );
}

function connectionsTable(s: StatusSnapshot): string {
  return section(s.websockets, "No WebSocket connection is open.", ["Plugin", "Connection", "Gateway", "Gateway alive"], (item) =>
    `<tr data-plugin="${esc(item.plugin)}"><td>${esc(item.plugin)}</td><td><code>${esc(item.connectionId)}</code></td><td><code>${esc(item.gateway)}</code></td><td class="${item.gatewayAlive ? "" : "bad"}">${item.gatewayAlive ? "yes" : "no: its sockets are being reported lost"}</td></tr>`,
  );
}

function scrobblesTable(s: StatusSnapshot): string {
  return section(s.scrobbles, "No Scrobbler plugin.", ["Plugin", "Pending", "Redelivered", "Dead-lettered", "Delivery"], (item) => {
    const delivery = item.parked ? `<span class="bad">parked: the plugin is not READY</span>` : item.consumer === false ? "no consumer yet" : "delivering";
    return `<tr data-plugin="${esc(item.plugin)}"><td>${esc(item.plugin)}</td><td class="num" data-field="pending">${item.pending}</td><td class="num" data-field="redelivered">${item.redelivered}</td><td class="num${item.deadLettered > 0 ? " bad" : ""}" data-field="dead-lettered">${item.deadLettered}</td><td data-field="delivery">${delivery}</td></tr>`;
  });
}

function workersTable(s: StatusSnapshot): string {
  if (s.workers.length === 0) return `<p class="empty">No worker has reported in the last few seconds.</p>`;
  const head = row("th", ["Worker", "Counting since", "Last report", "Calls"]);
  const rows = s.workers.map(
    (w) => `<tr data-worker="${esc(w.id)}"><td><code>${esc(w.id)}</code></td><td>${time(w.sinceMs, s.generatedAtMs)}</td><td>${time(w.lastReportMs, s.generatedAtMs)}</td><td class="num">${w.calls}</td></tr>`,
  );
  return `<table><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>`;
}

function section<T>(part: Availability<T>, empty: string, headers: string[], render: (item: T) => string): string {
  if (!part.available) return `<p class="unavailable" data-field="unavailable">${esc(part.reason)}</p>`;
  if (part.items.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  const more = part.omitted > 0 ? `<p class="sub">…and ${part.omitted} more (see /status.json).</p>` : "";
  return `<table><thead>${row("th", headers)}</thead><tbody>${part.items.map(render).join("")}</tbody></table>${more}`;
}

function count<T>(part: Availability<T>): string {
  return part.available ? String(part.items.length + part.omitted) : "?";
}

function row(cell: "th" | "td", values: string[]): string {
  return `<tr>${values.map((v) => `<${cell}>${esc(v)}</${cell}>`).join("")}</tr>`;
}

/** An absolute time readable at a glance ("12 s ago", "in 3 min"), exact in its tooltip. */
function time(ms: number, now: number): string {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}" title="${iso}">${relative(ms - now)}</time>`;
}

function relative(deltaMs: number): string {
  const seconds = Math.round(Math.abs(deltaMs) / 1000);
  const text =
    seconds < 1 ? "now" : seconds < 90 ? `${seconds} s` : seconds < 5400 ? `${Math.round(seconds / 60)} min` : seconds < 129_600 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86_400)} d`;
  if (text === "now") return text;
  return deltaMs < 0 ? `${text} ago` : `in ${text}`;
}

export function rateText(perSecond: number): string {
  if (perSecond === 0) return "0/s";
  if (perSecond < 0.01) return "<0.01/s";
  return `${perSecond < 10 ? perSecond.toFixed(2) : perSecond.toFixed(1)}/s`;
}

export function msText(ms: number | null): string {
  if (ms === null) return "—";
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio < 0.1 && ratio > 0 ? 1 : 0)}%`;
}

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

// Swaps in a fresh <main>; on a failed fetch the page stays as it was and says so.
const REFRESH_SCRIPT = `(() => {
  const seconds = Number(document.body.dataset.refresh);
  const tick = async () => {
    try {
      const response = await fetch(location.href, { headers: { accept: "text/html" }, cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("main");
      if (fresh) document.querySelector("main").replaceWith(fresh);
    } catch (err) {
      const meta = document.querySelector(".meta");
      if (meta) meta.dataset.stale = "Not refreshed: " + err.message;
    }
    setTimeout(tick, seconds * 1000);
  };
  setTimeout(tick, seconds * 1000);
})();`;

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --mute: #6e7781; --line: #d0d7de55; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1400px; }
h1 { margin: 0 0 .2rem; font-size: 1.5rem; } h1 .ns { color: var(--mute); font-weight: normal; }
h2 { font-size: 1.1rem; margin: 1.8rem 0 .5rem; }
.meta { color: var(--mute); margin: 0 0 .6rem; } .meta[data-stale]::after { content: " · " attr(data-stale); color: var(--bad); }
.summary { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; list-style: none; padding: 0; margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; font-size: .85rem; color: var(--mute); }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.sub { color: var(--mute); font-size: .85rem; }
.tag { display: inline-block; border: 1px solid var(--line); border-radius: 4px; padding: 0 .35rem; margin: 1px 0; font-size: .85rem; }
.permissions { margin: 0; padding-left: 1rem; } .detail { white-space: pre-wrap; font-family: ui-monospace, monospace; }
td[data-field="version"] { white-space: nowrap; } td[data-field="permissions"] { min-width: 16rem; }
.state { font-weight: 600; font-size: .8rem; padding: .05rem .45rem; border-radius: 999px; border: 1px solid currentColor; }
.state.READY { color: var(--ok); } .state.FAILED { color: var(--bad); } .state.LOADING { color: var(--warn); }
.state.DISABLED, .state.REMOVED { color: var(--mute); }
.bad { color: var(--bad); }
.error-row td { color: var(--bad); border-bottom: 1px solid var(--line); padding-top: 0; font-family: ui-monospace, monospace; font-size: .85rem; }
.unavailable, .empty { color: var(--mute); font-style: italic; }
code { font-family: ui-monospace, monospace; font-size: .85rem; }
`;
