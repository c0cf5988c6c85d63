/**
 * Column layout as Go's `text/tabwriter` with padding 2 and no trailing padding on the last column,
 * which is how Navidrome prints `plugin list`.
 */
export function formatTable(rows: readonly (readonly string[])[], padding = 2): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd((widths[i] ?? 0) + padding) : cell)).join(""))
    .join("\n");
}
