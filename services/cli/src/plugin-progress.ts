/**
 * Progress of long plugin work (compiling many plugins, installs) on stderr, so stdout stays
 * parseable: shown on a terminal, or when asked with `--progress`; quiet otherwise. A terminal
 * gets one line rewritten in place, anything else one line per step.
 */
export interface Progress {
  /** Reports the step now under way, e.g. `[2/7] compiling fake_artist_agent`. */
  step(text: string): void;
  /** Clears the line on a terminal; call when the work ends. */
  done(): void;
}

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export function createProgress(requested: boolean | undefined, stream: ProgressStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  if (!(requested ?? tty)) return { step: () => undefined, done: () => undefined };
  let shown = false;
  return {
    step(text) {
      if (tty) {
        stream.write(`\r\x1b[2K${text}`);
        shown = true;
      } else {
        stream.write(`${text}\n`);
      }
    },
    done() {
      if (shown) stream.write("\r\x1b[2K");
      shown = false;
    },
  };
}
