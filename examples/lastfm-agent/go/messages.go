//go:build wasip1

package main

// The MetadataAgent messages this plugin uses (api.proto, ABI.md §2.1): requests are only
// decoded and responses only encoded, since that is all a plugin does with them.

// ArtistQuery decodes every artist request: ArtistMBIDRequest {1 id, 2 name}, ArtistURLRequest,
// ArtistBiographyRequest and ArtistImageRequest {1 id, 2 name, 3 mbid}, ArtistSimilarRequest
// {…, 4 limit} and ArtistTopSongsRequest {1 id, 2 artistName, 3 mbid, 4 count} share one layout.
type ArtistQuery struct {
	ID, Name, Mbid string
	Limit          int32 // ArtistSimilarRequest.limit, ArtistTopSongsRequest.count
}

func decodeArtistQuery(b []byte) (*ArtistQuery, error) {
	q := &ArtistQuery{}
	return q, eachField(b, func(f field) {
		switch f.num {
		case 1:
			q.ID = string(f.data)
		case 2:
			q.Name = string(f.data)
		case 3:
			q.Mbid = string(f.data)
		case 4:
			q.Limit = int32(f.varint)
		}
	})
}

// emptyRequest stands for the requests of the methods this plugin does not offer: it only checks
// they are well-formed.
type emptyRequest struct{}

func decodeEmpty(b []byte) (*emptyRequest, error) {
	return &emptyRequest{}, eachField(b, func(field) {})
}

type emptyResponse struct{}

func (*emptyResponse) marshal() []byte { return nil }

type ArtistMBIDResponse struct{ Mbid string }

func (m *ArtistMBIDResponse) marshal() []byte {
	var e encoder
	e.string(1, m.Mbid)
	return e.buf
}

type ArtistURLResponse struct{ Url string }

func (m *ArtistURLResponse) marshal() []byte {
	var e encoder
	e.string(1, m.Url)
	return e.buf
}

type ArtistBiographyResponse struct{ Biography string }

func (m *ArtistBiographyResponse) marshal() []byte {
	var e encoder
	e.string(1, m.Biography)
	return e.buf
}

// Artist is a similar artist; Song a top song. Both are {1 name, 2 mbid}.
type (
	Artist struct{ Name, Mbid string }
	Song   struct{ Name, Mbid string }
)

func nameAndMbid(name, mbid string) []byte {
	var e encoder
	e.string(1, name)
	e.string(2, mbid)
	return e.buf
}

type ArtistSimilarResponse struct{ Artists []Artist }

func (m *ArtistSimilarResponse) marshal() []byte {
	var e encoder
	for _, a := range m.Artists {
		e.bytes(1, nameAndMbid(a.Name, a.Mbid))
	}
	return e.buf
}

type ArtistTopSongsResponse struct{ Songs []Song }

func (m *ArtistTopSongsResponse) marshal() []byte {
	var e encoder
	for _, s := range m.Songs {
		e.bytes(1, nameAndMbid(s.Name, s.Mbid))
	}
	return e.buf
}
