/**
 * `tonearm plugin list`: the plugins folder as Navidrome prints it (ABI.md §6), broken entries as
 * ERROR rows so one bad plugin never hides the others.
 */
import { discoverPlugins } from "@tonearm/packages";
import { formatTable } from "./table.js";

const HEADER = ["ID", "NAME", "AUTHOR", "VERSION", "CAPABILITIES", "DESCRIPTION"] as const;

const orDash = (s: string | undefined): string => (s ? s : "-");

/** The table, and the reason the folder could not be read (then the table has no rows). */
export async function pluginListTable(folder: string): Promise<{ table: string; folderError?: string }> {
  const rows: string[][] = [[...HEADER]];
  let folderError: string | undefined;
  for (const plugin of await discoverPlugins(folder)) {
    if (!plugin.id && !plugin.ok) {
      folderError = plugin.error.message;
      continue;
    }
    if (!plugin.ok) {
      rows.push([plugin.id, "ERROR", "ERROR", "ERROR", "ERROR", plugin.error.message]);
      continue;
    }
    const m = plugin.manifest;
    rows.push([
      plugin.id,
      plugin.isSymlink ? `${m.name} (dev)` : m.name,
      orDash(m.author),
      orDash(m.version),
      m.capabilities.join(", "),
      orDash(m.description),
    ]);
  }
  return { table: formatTable(rows), ...(folderError ? { folderError } : {}) };
}
