import type { BusLogger } from "@tonearm/bus";

export interface LogLine {
  readonly level: "info" | "warn" | "error";
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** Keeps what a gateway logs, so tests stay quiet and can look at warnings. */
export function memoryLogger(): BusLogger & { readonly lines: LogLine[]; at(level: LogLine["level"]): LogLine[] } {
  const lines: LogLine[] = [];
  const write = (level: LogLine["level"]) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    at: (level) => lines.filter((line) => line.level === level),
  };
}
