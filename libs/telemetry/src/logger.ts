/**
 * Logging with pino: one JSON object per line on stdout, for log collectors; levels as words
 * ("level":"info") and times as ISO-8601. The `pretty` format (pino-pretty) writes one coloured
 * line per entry instead, for a person at a terminal.
 *
 * Secrets stay out of every line: fields of a log call whose names look secret (`password`,
 * `apiKey`, `token`, …, see `looksSecret`) and sealed setting values are written as `[redacted]`,
 * and every secret value this process knows (plugin settings it sealed or opened, its own
 * passwords) is scrubbed from the finished line, messages, child bindings and plugin output
 * included. (pino formats child bindings without the bindings formatter, hence the scrubbing.)
 */
import { Writable } from "node:stream";
import { redactFields, scrubSecrets } from "@tonearm/config/secrets";
import { pino, type DestinationStream, type Logger } from "pino";
import { build as prettyStream } from "pino-pretty";

export type { DestinationStream, Logger };

/** Levels a logger accepts, quietest last. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export interface LoggerOptions {
  /** Lowest level written, any case. @default "info" */
  readonly level?: string;
  /** Where lines go. @default stdout */
  readonly destination?: DestinationStream;
  /** Added to every line as `name`, e.g. the service. */
  readonly name?: string;
  /** `json` lines for collectors, or `pretty` coloured text for a terminal. @default "json" */
  readonly format?: "json" | "pretty";
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = (options.level ?? "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new RangeError(`unknown log level "${options.level}"; use one of ${LOG_LEVELS.join(", ")}`);
  }
  const settings: pino.LoggerOptions = {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (fields) => redactFields(fields),
    },
    hooks: { streamWrite: scrubSecrets },
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  if (options.format === "pretty") {
    // Secrets are scrubbed (streamWrite) before pino-pretty parses the line. It pipes into a stream.
    const target = options.destination;
    const destination =
      target === undefined
        ? process.stdout
        : new Writable({
            write(chunk: Buffer, _encoding, done) {
              target.write(chunk.toString());
              done();
            },
          });
    const colorize = target === undefined && process.stdout.isTTY;
    const pretty = prettyStream({ destination, colorize, sync: true, singleLine: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" });
    return pino(settings, pretty);
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A child logger whose every line carries `plugin: <pluginId>`. */
export function pluginLogger(logger: Logger, pluginId: string): Logger {
  return logger.child({ plugin: pluginId });
}
