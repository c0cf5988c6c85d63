//go:build wasip1

// Package main is the lastfm-agent example in Go: the same metadata agent as ../assembly, backed
// by the Last.fm API (artist.getinfo, artist.getsimilar, artist.gettoptracks), with answers
// cached for a week and misses for a day. Built with the standard Go toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

const (
	pluginName       = "lastfm-agent"
	pluginVersion    = "1.0.0"
	defaultBaseURL   = "https://ws.audioscrobbler.com"
	apiPath          = "/2.0/"
	defaultLang      = "en"
	defaultLimit     = 20 // list sizes asked for when the request gives none
	maxLimit         = 100
	requestTimeoutMs = 5000
	foundTTLSeconds  = 7 * 24 * 3600
	missingTTL       = 24 * 3600
	lastfmNotFound   = 6 // Last.fm's error code for an artist it does not know
	// A summary that is only this link (and nothing before it) is Last.fm saying it has no biography.
	readMoreLink = `<a href="https://www.last.fm/music/`
	noAPIKey     = "no Last.fm API key: set ApiKey in the plugin's [PluginConfig] section"
)

// The three kinds of lookups, one Last.fm method each.
type lookupKind int

const (
	artistInfo lookupKind = iota
	similarArtists
	topTracks
)

type settings struct{ apiURL, apiKey, lang string }

func readSettings() settings {
	cfg := pluginConfig()
	base := strings.TrimSuffix(setting(cfg, "baseurl", defaultBaseURL), "/")
	return settings{apiURL: base + apiPath, apiKey: setting(cfg, "apikey", ""), lang: setting(cfg, "lang", defaultLang)}
}

func setting(cfg map[string]string, key, fallback string) string {
	if value := strings.TrimSpace(cfg[key]); value != "" {
		return value
	}
	return fallback
}

// answer is what Last.fm said: a JSON body, that it does not know the artist, or why it could not
// be asked.
type answer struct {
	body    any
	missing bool
	failure string
}

func callLastFm(method, params string, s settings) answer {
	url := s.apiURL + "?method=" + method + params + "&api_key=" + encodeURIComponent(s.apiKey) + "&format=json"
	headers := map[string]string{"Accept": "application/json", "User-Agent": "tonearm-" + pluginName + "/" + pluginVersion}
	res := httpGet(url, headers, requestTimeoutMs)
	if res.Error != "" {
		// The key travels in the URL, and the host's error text quotes the URL: keep it out of logs.
		redacted := strings.ReplaceAll(res.Error, "&api_key="+encodeURIComponent(s.apiKey)+"&", "&api_key=***&")
		return answer{failure: "Last.fm request failed: " + redacted}
	}
	var body any
	parsed := json.Unmarshal(res.Body, &body) == nil
	// Last.fm reports failures as {"error": <code>, "message": "..."}, with various HTTP statuses.
	if code, ok := jsonField(body, "error").(float64); parsed && ok {
		if int(code) == lastfmNotFound {
			return answer{missing: true}
		}
		return answer{failure: "Last.fm error " + strconv.Itoa(int(code)) + ": " + jsonText(jsonField(body, "message"))}
	}
	if res.Status != 200 {
		return answer{failure: "Last.fm answered HTTP " + strconv.Itoa(int(res.Status))}
	}
	if !parsed {
		return answer{failure: "Last.fm answered malformed JSON"}
	}
	return answer{body: body}
}

// lookupResult is a lookup's outcome: what the plugin keeps (nil for a miss), or a failure.
type lookupResult struct {
	value   any
	failure string
}

// lookup answers from the cache, else asks Last.fm and caches what it said (failures are not cached).
func lookup(kind lookupKind, name string, limit int, s settings) lookupResult {
	key := cacheKey(kind, name, limit, s)
	if cached, ok := cacheGetString(key); ok {
		return lookupResult{value: parseCached(cached)}
	}
	artist := "&artist=" + encodeURIComponent(name) + "&autocorrect=1"
	var a answer
	switch kind {
	case artistInfo:
		a = callLastFm("artist.getinfo", artist+"&lang="+encodeURIComponent(s.lang), s)
	case similarArtists:
		a = callLastFm("artist.getsimilar", artist+"&limit="+strconv.Itoa(limit), s)
	default:
		a = callLastFm("artist.gettoptracks", artist+"&limit="+strconv.Itoa(limit), s)
	}
	if a.failure != "" {
		fmt.Fprintln(os.Stderr, pluginName+": "+a.failure)
		return lookupResult{failure: a.failure}
	}
	compact := ""
	if !a.missing {
		compact = extract(kind, a.body)
	}
	ttl := int64(missingTTL)
	if compact != "" {
		ttl = foundTTLSeconds
	}
	cacheSetString(key, compact, ttl)
	return lookupResult{value: parseCached(compact)}
}

func parseCached(compact string) any {
	var value any
	if compact == "" || json.Unmarshal([]byte(compact), &value) != nil {
		return nil
	}
	return value
}

func cacheKey(kind lookupKind, name string, limit int, s settings) string {
	artist := strings.ToLower(name)
	switch kind {
	case artistInfo:
		return "artist:" + s.lang + ":" + artist
	case similarArtists:
		return "similar:" + strconv.Itoa(limit) + ":" + artist
	default:
		return "top:" + strconv.Itoa(limit) + ":" + artist
	}
}

type nameAndMBID struct {
	Name string `json:"name"`
	Mbid string `json:"mbid"`
}

// extract keeps the part of an answer the plugin uses, as compact JSON; "" when it holds nothing usable.
func extract(kind lookupKind, body any) string {
	if kind == artistInfo {
		artist, ok := jsonField(body, "artist").(map[string]any)
		if !ok {
			return ""
		}
		info := map[string]string{
			"mbid": jsonText(artist["mbid"]),
			"url":  jsonText(artist["url"]),
			"bio":  biography(jsonText(jsonField(jsonField(artist, "bio"), "summary"))),
		}
		return marshal(info)
	}
	list := jsonField(jsonField(body, "toptracks"), "track")
	if kind == similarArtists {
		list = jsonField(jsonField(body, "similarartists"), "artist")
	}
	var entries []nameAndMBID
	for _, entry := range items(list) {
		if name := jsonText(jsonField(entry, "name")); name != "" {
			entries = append(entries, nameAndMBID{Name: name, Mbid: jsonText(jsonField(entry, "mbid"))})
		}
	}
	if len(entries) == 0 {
		return ""
	}
	return marshal(entries)
}

func marshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// items reads a list Last.fm may send as an array, as the bare item when it holds one, or not at all.
func items(list any) []any {
	switch l := list.(type) {
	case []any:
		return l
	case map[string]any:
		return []any{l}
	}
	return nil
}

// jsonField and jsonText read JSON values loosely: a missing field or a value of another kind reads as
// nil or "", so paths chain without checks.
func jsonField(value any, name string) any {
	if object, ok := value.(map[string]any); ok {
		return object[name]
	}
	return nil
}

func jsonText(value any) string {
	s, _ := value.(string)
	return s
}

// biography is the summary as Last.fm wrote it (HTML, ending in its "Read more on Last.fm" link),
// or "" when it has none.
func biography(summary string) string {
	summary = strings.TrimSpace(summary)
	if strings.HasPrefix(summary, readMoreLink) {
		return ""
	}
	return summary
}

// listLimit is the limit to ask for: the request's, else the default, never more than the maximum.
func listLimit(requested int32) int {
	switch {
	case requested <= 0:
		return defaultLimit
	case requested > maxLimit:
		return maxLimit
	}
	return int(requested)
}

// encodeURIComponent escapes like JavaScript's function of that name, so this plugin sends the
// same URLs as the AssemblyScript build.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// infoField is the artist-info field for name when Last.fm has it (non-empty), else the miss or the failure.
func infoField(name, key string) (string, error) {
	s := readSettings()
	if s.apiKey == "" {
		return "", fmt.Errorf("%s", noAPIKey)
	}
	found := lookup(artistInfo, name, 0, s)
	if value := jsonText(jsonField(found.value, key)); value != "" {
		return value, nil
	}
	return "", failed(found)
}

// listOf is a list lookup, at most limit entries long.
func listOf(kind lookupKind, name string, limit int) ([]nameAndMBID, error) {
	s := readSettings()
	if s.apiKey == "" {
		return nil, fmt.Errorf("%s", noAPIKey)
	}
	found := lookup(kind, name, limit, s)
	list, _ := found.value.([]any)
	if len(list) == 0 {
		return nil, failed(found)
	}
	var out []nameAndMBID
	for _, entry := range list {
		if len(out) == limit {
			break
		}
		out = append(out, nameAndMBID{Name: jsonText(jsonField(entry, "name")), Mbid: jsonText(jsonField(entry, "mbid"))})
	}
	return out, nil
}

func failed(found lookupResult) error {
	if found.failure != "" {
		return fmt.Errorf("%s", found.failure)
	}
	return ErrNotFound
}

type lastFmAgent struct{ NotImplementedAgent }

func (lastFmAgent) GetArtistMBID(req *ArtistQuery) (*ArtistMBIDResponse, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" {
		return nil, ErrNotFound
	}
	mbid, err := infoField(name, "mbid")
	if err != nil {
		return nil, err
	}
	return &ArtistMBIDResponse{Mbid: mbid}, nil
}

func (lastFmAgent) GetArtistURL(req *ArtistQuery) (*ArtistURLResponse, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" {
		return nil, ErrNotFound
	}
	url, err := infoField(name, "url")
	if err != nil {
		return nil, err
	}
	return &ArtistURLResponse{Url: url}, nil
}

func (lastFmAgent) GetArtistBiography(req *ArtistQuery) (*ArtistBiographyResponse, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" {
		return nil, ErrNotFound
	}
	bio, err := infoField(name, "bio")
	if err != nil {
		return nil, err
	}
	return &ArtistBiographyResponse{Biography: bio}, nil
}

func (lastFmAgent) GetSimilarArtists(req *ArtistQuery) (*ArtistSimilarResponse, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" {
		return nil, ErrNotFound
	}
	list, err := listOf(similarArtists, name, listLimit(req.Limit))
	if err != nil {
		return nil, err
	}
	resp := &ArtistSimilarResponse{}
	for _, a := range list {
		resp.Artists = append(resp.Artists, Artist{Name: a.Name, Mbid: a.Mbid})
	}
	return resp, nil
}

func (lastFmAgent) GetArtistTopSongs(req *ArtistQuery) (*ArtistTopSongsResponse, error) {
	name := strings.TrimSpace(req.Name) // ArtistTopSongsRequest.artistName
	if name == "" {
		return nil, ErrNotFound
	}
	list, err := listOf(topTracks, name, listLimit(req.Limit))
	if err != nil {
		return nil, err
	}
	resp := &ArtistTopSongsResponse{}
	for _, s := range list {
		resp.Songs = append(resp.Songs, Song{Name: s.Name, Mbid: s.Mbid})
	}
	return resp, nil
}

// main never runs in a c-shared (reactor) module, but package main needs it.
func main() {}

// init runs inside `_initialize`, where plugins register their capabilities.
func init() {
	RegisterMetadataAgent(lastFmAgent{})
}
