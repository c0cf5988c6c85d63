/**
 * Which setting names hold secrets, judged by the name alone. Keys reach Tonearm lower-cased (viper
 * does it: `ClientSecret` → `clientsecret`), so the rule reads lower-case compounds as well as
 * separated words (`api_key`, `api-key`, `apiKey`).
 *
 * A name is secret when, lower-cased and with separators removed, it
 *   - contains password, passwd, passphrase, secret, credential, privatekey, apikey, accesskey,
 *     signingkey, authorization or bearer;
 *   - contains token, except as a count (`maxtokens`, `…tokens` at the end) or a tokenizer;
 *   - ends with key or keys after some other word (`lastfmkey`, `api_key`, `licensekeys`), except
 *     ordinary words and identifiers that end so (`hotkey`, `monkey`, `publickey`, `sortkey`,
 *     `cachekey`, `primarykey`, …);
 * or when its last word (split at `_`, `-`, `.`, spaces and camelCase) is `pass`, `pwd`, `pw`,
 * `auth`, `psk` or `otp` (`user_pass`, `basic_auth`, but not `auth_url`), or it is a compound of
 * auth that carries credentials (`basicauth`, `authheader`; not `author`, `authority`, `oauth`).
 *
 * A bare `key` is not secret by name: it names cache keys, KV keys and musical keys as often as
 * credentials. Operators mark such settings secret themselves (`[Plugins] SecretKeys`).
 */

const SECRET_PARTS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "credential",
  "privatekey",
  "apikey",
  "accesskey",
  "signingkey",
  "authorization",
  "bearer",
] as const;

const SECRET_WORDS = new Set(["pass", "pwd", "pw", "auth", "psk", "otp"]);

/** Compounds of auth that carry credentials. */
const AUTH_COMPOUND = /^(?:(?:basic|http|proxy|digest)auth|auth(?:header|code|key|string|value|info|data))$/;

/** Names ending in key that are ordinary words or identifiers, not credentials. */
const NOT_SECRET_KEY_WORDS = new Set([
  "hotkey",
  "monkey",
  "turkey",
  "donkey",
  "jockey",
  "hockey",
  "whiskey",
  "publickey",
  "sortkey",
  "cachekey",
  "primarykey",
  "foreignkey",
  "partitionkey",
  "routingkey",
  "groupkey",
  "lookupkey",
  "objectkey",
  "idempotencykey",
  "musickey",
  "songkey",
]);

/** Whether a setting or field named `name` holds a secret by the rule above. */
export function looksSecret(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "");
  const squashed = words.join("");
  if (squashed === "") return false;
  if (SECRET_PARTS.some((part) => squashed.includes(part))) return true;
  if (/token(?!s$|iz|is)/.test(squashed)) return true;
  if (SECRET_WORDS.has(words.at(-1) ?? "") || AUTH_COMPOUND.test(squashed)) return true;
  const singular = squashed.endsWith("keys") ? squashed.slice(0, -1) : squashed;
  return singular.endsWith("key") && singular !== "key" && !NOT_SECRET_KEY_WORDS.has(singular);
}
