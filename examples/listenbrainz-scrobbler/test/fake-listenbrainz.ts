// A stand-in for the ListenBrainz API at its real URL: 200 for good tokens, its JSON error for a
// revoked one (token-revoked), an HTML page when "down" (token-flaky).
import { CannedHttp, type CannedResponse, type RecordedRequest } from "@tonearm/plugin-testkit";

export const SUBMIT_URL = "https://api.listenbrainz.org/1/submit-listens";

/** Answers a submission by the token it carries. */
function listenBrainz(req: RecordedRequest): CannedResponse {
  const authorization = req.headers["Authorization"] ?? "";
  if (authorization === "Token token-revoked") return { status: 401, json: { code: 401, error: "Invalid authorization token." } };
  if (authorization === "Token token-flaky") return { status: 502, headers: { "content-type": "text/html" }, body: `<html><body>${"Bad gateway. ".repeat(30)}</body></html>` };
  return { json: { status: "ok" } };
}

/** A fresh stand-in (its own request log). */
export function fakeListenBrainz(): CannedHttp {
  return new CannedHttp().on(`POST ${SUBMIT_URL}`, listenBrainz);
}
