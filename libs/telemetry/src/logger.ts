/**
 * Logging with pino: one JSON object per line on stdout, also on a terminal (operators pipe it to
 * their own tools; no pretty-printer is bundled). Levels are written as words ("level":"info") and
 * times as ISO-8601, so lines read well without pino's tooling.
 *
 * Secrets stay out of every line: fields of a log call whose names look secret (`password`,
 * `apiKey`, `token`, …, see `looksSecret`) and sealed setting values are written as `[redacted]`,
 * and every secret value this process knows (plugin settings it sealed or opened, its own
 * passwords) is scrubbed from the finished line, messages, child bindings and plugin output
 * included. (pino formats child bindings without the bindings formatter, hence the scrubbing.)
 */
import { redactFields, scrubSecrets } from "@tonearm/config/secrets";
import { pino, type DestinationStream, type Logger } from "pino";

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
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A child logger whose every line carries `plugin: <pluginId>`. */
export function pluginLogger(logger: Logger, pluginId: string): Logger {
  return logger.child({ plugin: pluginId });
}
