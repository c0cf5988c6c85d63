//go:build wasip1

package main

// The MetadataAgent capability: the interface a plugin implements, and its exports.

// MetadataAgent answers artist and album metadata. Embed NotImplementedAgent to answer
// plugin:not_implemented for the methods you leave out.
type MetadataAgent interface {
	GetArtistMBID(*ArtistQuery) (*ArtistMBIDResponse, error)
	GetArtistURL(*ArtistQuery) (*ArtistURLResponse, error)
	GetArtistBiography(*ArtistQuery) (*ArtistBiographyResponse, error)
	GetSimilarArtists(*ArtistQuery) (*ArtistSimilarResponse, error)
	GetArtistImages(*ArtistQuery) (*emptyResponse, error)
	GetArtistTopSongs(*ArtistQuery) (*ArtistTopSongsResponse, error)
	GetAlbumInfo(*emptyRequest) (*emptyResponse, error)
	GetAlbumImages(*emptyRequest) (*emptyResponse, error)
}

// NotImplementedAgent answers every method with ErrNotImplemented.
type NotImplementedAgent struct{}

func (NotImplementedAgent) GetArtistMBID(*ArtistQuery) (*ArtistMBIDResponse, error) {
	return nil, ErrNotImplemented
}
func (NotImplementedAgent) GetArtistURL(*ArtistQuery) (*ArtistURLResponse, error) {
	return nil, ErrNotImplemented
}
func (NotImplementedAgent) GetArtistBiography(*ArtistQuery) (*ArtistBiographyResponse, error) {
	return nil, ErrNotImplemented
}
func (NotImplementedAgent) GetSimilarArtists(*ArtistQuery) (*ArtistSimilarResponse, error) {
	return nil, ErrNotImplemented
}
func (NotImplementedAgent) GetArtistImages(*ArtistQuery) (*emptyResponse, error) {
	return nil, ErrNotImplemented
}
func (NotImplementedAgent) GetArtistTopSongs(*ArtistQuery) (*ArtistTopSongsResponse, error) {
	return nil, ErrNotImplemented
}
func (NotImplementedAgent) GetAlbumInfo(*emptyRequest) (*emptyResponse, error) {
	return nil, ErrNotImplemented
}
func (NotImplementedAgent) GetAlbumImages(*emptyRequest) (*emptyResponse, error) {
	return nil, ErrNotImplemented
}

// Calling a method before registration dereferences a nil interface and panics, as with the
// generated API.
var metadataAgent MetadataAgent

func RegisterMetadataAgent(a MetadataAgent) { metadataAgent = a }

//go:wasmexport metadata_agent_api_version
func metadataAgentAPIVersion() uint64 { return 1 }

//go:wasmexport metadata_agent_get_artist_mbid
func metadataAgentGetArtistMBID(ptr, size uint32) uint64 {
	return serve(ptr, size, decodeArtistQuery, metadataAgent.GetArtistMBID)
}

//go:wasmexport metadata_agent_get_artist_url
func metadataAgentGetArtistURL(ptr, size uint32) uint64 {
	return serve(ptr, size, decodeArtistQuery, metadataAgent.GetArtistURL)
}

//go:wasmexport metadata_agent_get_artist_biography
func metadataAgentGetArtistBiography(ptr, size uint32) uint64 {
	return serve(ptr, size, decodeArtistQuery, metadataAgent.GetArtistBiography)
}

//go:wasmexport metadata_agent_get_similar_artists
func metadataAgentGetSimilarArtists(ptr, size uint32) uint64 {
	return serve(ptr, size, decodeArtistQuery, metadataAgent.GetSimilarArtists)
}

//go:wasmexport metadata_agent_get_artist_images
func metadataAgentGetArtistImages(ptr, size uint32) uint64 {
	return serve(ptr, size, decodeArtistQuery, metadataAgent.GetArtistImages)
}

//go:wasmexport metadata_agent_get_artist_top_songs
func metadataAgentGetArtistTopSongs(ptr, size uint32) uint64 {
	return serve(ptr, size, decodeArtistQuery, metadataAgent.GetArtistTopSongs)
}

//go:wasmexport metadata_agent_get_album_info
func metadataAgentGetAlbumInfo(ptr, size uint32) uint64 {
	return serve(ptr, size, decodeEmpty, metadataAgent.GetAlbumInfo)
}

//go:wasmexport metadata_agent_get_album_images
func metadataAgentGetAlbumImages(ptr, size uint32) uint64 {
	return serve(ptr, size, decodeEmpty, metadataAgent.GetAlbumImages)
}
