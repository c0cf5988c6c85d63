/**
 * The secret values this process knows (every setting it sealed or opened), so text about to
 * leave the process (log lines, metrics) can be scrubbed of them whatever field or message
 * carries them: a plugin echoing its API key to stderr, an error text quoting a URL with a token.
 *
 * Values shorter than `MIN_SCRUBBED_LENGTH` are not scrubbed from free text (a secret "1" would
 * blank every 1 in the logs); they are still redacted wherever their setting's name is known.
 */

export const REDACTED = "[redacted]";
export const MIN_SCRUBBED_LENGTH = 6;

const known = new Set<string>();
let pattern: RegExp | undefined;

/** Adds secret values to the ones scrubbed from this process's output. */
export function rememberSecretValues(values: Iterable<string>): void {
  let added = false;
  for (const value of values) {
    if (value.length < MIN_SCRUBBED_LENGTH || known.has(value)) continue;
    known.add(value);
    added = true;
  }
  if (added) pattern = undefined;
}

/** `text` with every known secret value, as written or JSON-escaped, replaced by `[redacted]`. */
export function scrubSecrets(text: string): string {
  if (known.size === 0) return text;
  pattern ??= compile();
  return text.replace(pattern, REDACTED);
}

function compile(): RegExp {
  const forms = new Set<string>();
  for (const value of known) {
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  // Longest first, so a secret containing another is replaced whole.
  const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
  return new RegExp(alternatives.join("|"), "g");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
