import { PERMISSION_KEYS, type PermissionKey } from "@tonearm/abi";

/**
 * Go's encoding/json matches object keys to struct fields ignoring case (`"WebSocket"` fills the
 * `websocket` permission). Besides ASCII case, two letters fold onto ASCII ones: ſ → s and
 * K (Kelvin) → k (checked against Go 1.24's decoder, which does not fold İ or ı).
 */
const NON_ASCII_FOLDS: Readonly<Record<string, string>> = {
  "\u017f": "s",
  "\u212a": "k",
};

function fold(ch: string): string {
  return NON_ASCII_FOLDS[ch] ?? (ch.length === 1 && ch < "\x80" ? ch.toLowerCase() : ch);
}

/** Whether Go would decode the JSON key `key` into the field tagged `name` (ASCII). */
export function foldsTo(key: string, name: string): boolean {
  const chars = [...key];
  return chars.length === name.length && chars.every((ch, i) => fold(ch) === fold(name[i] ?? ""));
}

/** The permission a key of `permissions` fills, if any. */
export function permissionKeyOf(key: string): PermissionKey | undefined {
  return PERMISSION_KEYS.find((permission) => foldsTo(key, permission));
}

/** The value Go ends up with for a field: the last key in document order that folds to it. */
export function lastFolding(object: object, name: string): unknown {
  let value: unknown;
  for (const key of Object.keys(object)) {
    if (foldsTo(key, name)) value = (object as Record<string, unknown>)[key];
  }
  return value;
}
