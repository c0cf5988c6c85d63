//go:build wasip1

package main

// The host functions this plugin calls (ABI.md §1.6), each an `env` import taking and returning
// protobuf bytes. Go links only the imports the code uses, and the manifest must grant their
// permission (http, cache, config), or the module does not load.

//go:wasmimport env get
func envGet(ptr, size uint32) uint64

//go:wasmimport env get_string
func envGetString(ptr, size uint32) uint64

//go:wasmimport env set_string
func envSetString(ptr, size uint32) uint64

//go:wasmimport env get_plugin_config
func envGetPluginConfig(ptr, size uint32) uint64

// HTTPResponse is http.HttpResponse {1 status, 2 body, 3 headers, 4 error}.
type HTTPResponse struct {
	Status  int32
	Body    []byte
	Headers map[string]string
	// Error is non-empty for a network failure or a request the manifest does not allow.
	Error string
}

// httpGet sends http.HttpRequest {1 url, 2 headers, 3 timeout_ms} to env.get.
func httpGet(url string, headers map[string]string, timeoutMs int32) HTTPResponse {
	var e encoder
	e.string(1, url)
	e.stringMap(2, headers)
	e.int64(3, int64(timeoutMs))
	res := HTTPResponse{Headers: map[string]string{}}
	err := eachField(callHost(envGet, e.buf), func(f field) {
		switch f.num {
		case 1:
			res.Status = int32(f.varint)
		case 2:
			res.Body = append([]byte(nil), f.data...)
		case 3:
			_ = mapEntry(f.data, res.Headers)
		case 4:
			res.Error = string(f.data)
		}
	})
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// cacheGetString sends cache.GetRequest {1 key} and reads cache.GetStringResponse {1 exists, 2 value}.
func cacheGetString(key string) (value string, exists bool) {
	var e encoder
	e.string(1, key)
	_ = eachField(callHost(envGetString, e.buf), func(f field) {
		switch f.num {
		case 1:
			exists = f.varint != 0
		case 2:
			value = string(f.data)
		}
	})
	return value, exists
}

// cacheSetString sends cache.SetStringRequest {1 key, 2 value, 3 ttl_seconds}.
func cacheSetString(key, value string, ttlSeconds int64) {
	var e encoder
	e.string(1, key)
	e.string(2, value)
	e.int64(3, ttlSeconds)
	callHost(envSetString, e.buf)
}

// pluginConfig reads config.GetPluginConfigResponse {1 config}: the plugin's [PluginConfig.<id>].
func pluginConfig() map[string]string {
	config := map[string]string{}
	_ = eachField(callHost(envGetPluginConfig, nil), func(f field) {
		if f.num == 1 {
			_ = mapEntry(f.data, config)
		}
	})
	return config
}
