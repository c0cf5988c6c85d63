import type { BusLogger } from "./types.js";

/** Used when the caller gives no logger: warnings and errors still reach stderr, as JSON lines. */
export const stderrLogger: BusLogger = {
  info: () => undefined,
  warn: (fields, message) => write("warn", fields, message),
  error: (fields, message) => write("error", fields, message),
};

function write(level: string, fields: Record<string, unknown>, message: string): void {
  const err = fields.err instanceof Error ? { err: { message: fields.err.message, stack: fields.err.stack } } : {};
  process.stderr.write(`${JSON.stringify({ level, msg: message, ...fields, ...err })}\n`);
}
