// docs/metrics.md and docs/prometheus-alerts.yml against the metrics a Tonearm process registers:
// every metric documented with its type and labels, and no alert on a metric or label that does not exist.
import { readFile } from "node:fs/promises";
import { createMetrics } from "@tonearm/telemetry";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const docsUrl = new URL("../../docs/", import.meta.url);
const page = await readFile(new URL("metrics.md", docsUrl), "utf8");
const rulesText = await readFile(new URL("prometheus-alerts.yml", docsUrl), "utf8");

interface Instrument {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
}

/** Every metric a process registers (prom-client's defaults included), by name. */
async function registered(): Promise<Map<string, Instrument>> {
  const metrics = createMetrics();
  const all = new Map<string, Instrument>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, labelNames } = metric as unknown as { name: string; labelNames?: string[] };
    all.set(name, { name, type: (await metric.get()).type, labels: labelNames ?? [] });
  }
  return all;
}

/** Tonearm's own instruments: the fields of `Metrics` (libs/telemetry/src/metrics.ts). */
async function instruments(): Promise<Instrument[]> {
  const metrics = createMetrics();
  const found: Instrument[] = [];
  for (const value of Object.values(metrics) as unknown[]) {
    // The instruments are the objects with a `get`; the registry and helper functions are not.
    if (value === metrics.registry || typeof value !== "object" || value === null || !("get" in value)) continue;
    const metric = value as { name: string; labelNames: string[]; get(): Promise<{ type: string }> };
    found.push({ name: metric.name, type: (await metric.get()).type, labels: metric.labelNames });
  }
  return found;
}

/** Rows of the table under "## Tonearm's metrics": name, type, labels. */
function documentedMetrics(): Instrument[] {
  const section = page.split("## Tonearm's metrics")[1]?.split("\n## ")[0] ?? "";
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `tonearm_"))
    .map((line) => {
      const [name, type, labels] = line
        .split("|")
        .slice(1, 4)
        .map((c) => c.trim());
      return {
        name: (name ?? "").replaceAll("`", ""),
        type: type ?? "",
        labels: labels === "—" ? [] : (labels ?? "").split(",").map((l) => l.trim().replaceAll("`", "")),
      };
    });
}

interface Rule {
  alert?: unknown;
  expr?: unknown;
  labels?: { severity?: unknown };
  annotations?: { summary?: unknown; description?: unknown };
}

function rules(): Rule[] {
  const file = parse(rulesText) as { groups?: { name?: string; rules?: Rule[] }[] };
  return (file.groups ?? []).flatMap((group) => group.rules ?? []);
}

/** The series a name reads: a metric, or a histogram's _bucket/_sum/_count. */
function seriesOf(all: Map<string, Instrument>, name: string): { metric: Instrument; extraLabels: string[] } | undefined {
  const direct = all.get(name);
  if (direct) return { metric: direct, extraLabels: [] };
  const match = /^(.*)_(bucket|sum|count)$/.exec(name);
  const histogram = match && all.get(match[1] as string);
  if (histogram?.type !== "histogram") return undefined;
  return { metric: histogram, extraLabels: match?.[2] === "bucket" ? ["le"] : [] };
}

describe("docs/metrics.md", () => {
  it("documents every metric of libs/telemetry with its type and labels, and nothing else", async () => {
    const defined = await instruments();
    expect(defined.length).toBeGreaterThanOrEqual(7);
    const byName = (list: Instrument[]) => [...list].sort((a, b) => a.name.localeCompare(b.name)).map((m) => ({ ...m, labels: [...m.labels].sort() }));
    expect(byName(documentedMetrics()), "docs/metrics.md must list each metric of libs/telemetry/src/metrics.ts with its labels").toEqual(byName(defined));
  });

  it("names only metrics a process exports", async () => {
    const all = await registered();
    const named = new Set([...page.matchAll(/`(tonearm_[a-z0-9_]+)`/g)].map((m) => m[1] as string));
    expect(named.size).toBeGreaterThan(10);
    for (const name of named) expect(seriesOf(all, name), `${name} is documented but no process exports it`).toBeDefined();
  });
});

describe("docs/prometheus-alerts.yml", () => {
  it("is a rule file whose every rule has an expression, a severity, a summary and a description", () => {
    const list = rules();
    expect(list.length).toBeGreaterThanOrEqual(5);
    for (const rule of list) {
      expect(typeof rule.alert, JSON.stringify(rule)).toBe("string");
      expect(typeof rule.expr, String(rule.alert)).toBe("string");
      expect(["critical", "warning", "info"], String(rule.alert)).toContain(rule.labels?.severity);
      expect(typeof rule.annotations?.summary, String(rule.alert)).toBe("string");
      expect(typeof rule.annotations?.description, String(rule.alert)).toBe("string");
    }
    expect(new Set(list.map((r) => r.alert)).size).toBe(list.length);
  });

  it("uses only metrics and labels that exist", async () => {
    const all = await registered();
    let checked = 0;
    for (const rule of rules()) {
      const expr = String(rule.expr);
      for (const [, name, selector] of expr.matchAll(/\b(tonearm_[a-z0-9_]+)(\{[^}]*\})?/g)) {
        const series = seriesOf(all, name as string);
        expect(series, `${String(rule.alert)} uses ${name}, which no process exports`).toBeDefined();
        const labels = [...(selector ?? "").matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)].map((m) => m[1] as string);
        for (const label of labels) {
          expect([...(series?.metric.labels ?? []), ...(series?.extraLabels ?? [])], `${String(rule.alert)}: ${name} has no label ${label}`).toContain(label);
        }
        checked++;
      }
      for (const [, grouping] of expr.matchAll(/\bby \(([^)]*)\)/g)) {
        const metrics = [...expr.matchAll(/\b(tonearm_[a-z0-9_]+)/g)].map((m) => seriesOf(all, m[1] as string));
        for (const label of (grouping ?? "").split(",").map((l) => l.trim())) {
          const known = metrics.some((s) => [...(s?.metric.labels ?? []), ...(s?.extraLabels ?? [])].includes(label));
          expect(known, `${String(rule.alert)} groups by ${label}, which its metrics do not have`).toBe(true);
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(7);
  });

  it("has every alert described in docs/metrics.md", () => {
    for (const rule of rules()) expect(page, `docs/metrics.md does not describe ${String(rule.alert)}`).toContain(`| \`${String(rule.alert)}\` |`);
  });
});
