import { TonearmError } from "@tonearm/abi";

/**
 * The configuration cannot be used: a file that is missing or unreadable, text that is not TOML, or
 * values the schema refuses. `message` is written for an operator and names the file (or the
 * environment variable) and the key; `problems` holds one line per violation.
 */
export class ConfigError extends TonearmError {
  /** The config file at fault, or `"environment"` when only environment variables are. */
  readonly source?: string;
  /** Each violation on its own, e.g. `runtime.threadsMin: must be >= 1 (got 0)`. */
  readonly problems: readonly string[];

  constructor(message: string, options: { source?: string; problems?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.source !== undefined) this.source = options.source;
    this.problems = options.problems ?? [message];
  }
}

/** Where the environment's values come from, in `ConfigError.source`. */
export const ENVIRONMENT_SOURCE = "environment";
