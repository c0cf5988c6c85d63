#!/usr/bin/env node
// Runs every benchmark in bench/ (files named *.bench.mjs), prints a table and writes
// bench/results/<name>.json. Not part of `npm test`: these machines are shared and noisy, so
// figures are medians and percentiles, compared as ratios.
import { readdir, mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, totalmem } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv[2];
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: availableParallelism(),
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
await mkdir(`${here}results`, { recursive: true });

for (const file of (await readdir(here)).filter((f) => f.endsWith(".bench.mjs")).sort()) {
  const name = file.replace(/\.bench\.mjs$/, "");
  if (only && name !== only) continue;
  const { run } = await import(pathToFileURL(`${here}${file}`).href);
  console.log(`\n## ${name}`);
  const rows = await run();
  console.table(rows);
  await writeFile(`${here}results/${name}.json`, `${JSON.stringify({ name, machine, date: new Date().toISOString(), rows }, null, 2)}\n`);
}
