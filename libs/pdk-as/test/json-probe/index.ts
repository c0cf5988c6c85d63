// Test plugin for the PDK's JSON reader and writer: GetArtistBiography parses `name` and answers
// the value written back with `stringify`, or "malformed" when parseJson refused the text.
import { api, MetadataAgent, parseJson, registerMetadataAgent, Result, stringify } from "@tonearm/pdk-as";
export * from "@tonearm/pdk-as/exports";

class JsonProbe extends MetadataAgent {
  getArtistBiography(req: api.ArtistBiographyRequest): Result {
    const value = parseJson(req.name);
    return Result.ok(new api.ArtistBiographyResponse(value === null ? "malformed" : stringify(value)));
  }
}

registerMetadataAgent(new JsonProbe());
