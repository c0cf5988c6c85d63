import { randomBytes } from "node:crypto";

// nanoid's URL-safe alphabet: 64 symbols, so each random byte maps without bias.
const ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";

/** A fresh connection id shaped like Navidrome's (nanoid, 10 characters). */
export function generateConnectionId(): string {
  let id = "";
  for (const byte of randomBytes(10)) id += ALPHABET[byte & 63];
  return id;
}
