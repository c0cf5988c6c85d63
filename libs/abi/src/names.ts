/**
 * Export and import names of the go-plugin calling convention (knqyf263/go-plugin `toSnakeCase`):
 * `(.)([A-Z][a-z]+)` → `$1_$2`, then `([a-z0-9])([A-Z])` → `$1_$2`, then lower-case.
 * `WebSocketCallback` → `web_socket_callback`, `GetArtistMBID` → `get_artist_mbid`.
 */
export function toSnakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z]+)/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
}
