module tonearm.example/lastfm-agent

go 1.24
