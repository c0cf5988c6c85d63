import { CallError, CallErrorCode } from "@tonearm/abi";

/**
 * Milliseconds left before the caller's deadline, at most `limitMs` (the plugin's own call
 * limit); `limitMs` when the caller set none. Throws `timeout` when nothing is left.
 */
export function timeLeft(deadlineMs: number | undefined, limitMs: number, what: () => string): number {
  if (deadlineMs === undefined) return limitMs;
  const left = deadlineMs - Date.now();
  if (left <= 0) throw new CallError(CallErrorCode.Timeout, `the caller's deadline passed before ${what()}`);
  return Math.min(left, limitMs);
}

/**
 * Settles as `work` does, or rejects with `timeout` if the caller's deadline comes first; `work`
 * itself goes on (a load others may share).
 */
export async function beforeDeadline<T>(work: Promise<T>, deadlineMs: number | undefined, what: () => string): Promise<T> {
  if (deadlineMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CallError(CallErrorCode.Timeout, `the caller's deadline passed before ${what()}`)),
      Math.max(0, deadlineMs - Date.now()),
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
