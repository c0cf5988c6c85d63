/** Ids for schedules a plugin did not name: go-nanoid's default, 10 characters of `A-Za-z0-9_-` (ABI.md §8). */
import { randomBytes } from "node:crypto";

const ALPHABET = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const SCHEDULE_ID_LENGTH = 10;

export function newScheduleId(): string {
  // 64 symbols: the low six bits of each random byte pick one without bias.
  return Array.from(randomBytes(SCHEDULE_ID_LENGTH), (byte) => ALPHABET[byte & 63]).join("");
}
