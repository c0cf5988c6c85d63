/** `scheduler` permission, `time_now` (v0.58+): the host's wall clock, which plugins cannot read through WASI in Navidrome. */
import { schedulerHost } from "@tonearm/proto";
import { syncHandler } from "../define.js";
import type { ThreadContext } from "./context.js";

export const timeFunctions = {
  time_now: syncHandler<ThreadContext, typeof schedulerHost.TimeNowRequestSchema, typeof schedulerHost.TimeNowResponseSchema>(
    "time_now",
    { input: schedulerHost.TimeNowRequestSchema, output: schedulerHost.TimeNowResponseSchema },
    () => {
      const now = new Date();
      return { rfc3339Nano: rfc3339(now), unixMilli: BigInt(now.getTime()), localTimeZone: localTimeZone() };
    },
  ),
};

/** Go's `time.RFC3339Nano` in local time: fractional seconds without trailing zeros, numeric offset or `Z`. */
export function rfc3339(d: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
  const offsetMin = -d.getTimezoneOffset();
  const frac = d.getMilliseconds() === 0 ? "" : `.${pad(d.getMilliseconds(), 3).replace(/0+$/, "")}`;
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  const zone = offsetMin === 0 ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac}${zone}`
  );
}

/** The host's IANA zone name (Go would say `Local`, which tells a plugin nothing). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
