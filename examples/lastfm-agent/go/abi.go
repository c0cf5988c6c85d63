//go:build wasip1

package main

// The guest side of Navidrome's plugin calling convention (go-plugin, ABI.md §1.2–§1.5), written
// out with the standard library instead of the generated plugins/api package:
//   - `malloc`/`free`, through which the host writes requests and host-call responses;
//   - `metadata_agent_api_version` and one `(ptr, len) -> i64` export per MetadataAgent method,
//     whose result packs `ptr<<32 | len`, bit 31 set when the payload is an error string;
//   - calls to `env` host functions: request bytes out, response bytes back.

import (
	"errors"
	"runtime"
	"unsafe"
)

// The sentinel errors a host matches by their exact text: "no answer here, ask the next agent"
// and "this plugin does not offer the method".
var (
	ErrNotFound       = errors.New("plugin:not_found")
	ErrNotImplemented = errors.New("plugin:not_implemented")
)

const errorBit = 1 << 31

// allocations keeps every buffer malloc handed out reachable until it is freed: Go's collector
// does not move objects, so the address the host got stays valid.
var allocations = make(map[uint32][]byte)

//go:wasmexport malloc
func malloc(size uint32) uint32 {
	if size == 0 {
		return 0
	}
	buf := make([]byte, size)
	ptr := addressOf(buf)
	allocations[ptr] = buf
	return ptr
}

// free forgets a buffer malloc returned; any other pointer (a result buffer, 0) is ignored.
//
//go:wasmexport free
func free(ptr uint32) {
	delete(allocations, ptr)
}

// lastResult keeps the latest result reachable until the next call: the host reads it after the
// export has returned.
var lastResult []byte

// serve decodes a request, runs the method and packs its outcome. As in the generated code, an
// undecodable request yields 0: an empty, successful response.
func serve[Req any, Resp interface{ marshal() []byte }](ptr, size uint32, decode func([]byte) (Req, error), method func(Req) (Resp, error)) uint64 {
	req, err := decode(bytesAt(ptr, size))
	if err != nil {
		return 0
	}
	resp, err := method(req)
	if err != nil {
		return pack([]byte(err.Error()), errorBit)
	}
	return pack(resp.marshal(), 0)
}

func pack(payload []byte, flags uint64) uint64 {
	lastResult = payload
	if len(payload) == 0 {
		return flags
	}
	return uint64(addressOf(payload))<<32 | uint64(len(payload)) | flags
}

// callHost sends a request to an `env` import and returns a copy of the response bytes. The
// response buffer came from malloc; it is freed here at once, since Navidrome never frees it.
func callHost(fn func(ptr, size uint32) uint64, request []byte) []byte {
	var ptr uint32
	if len(request) > 0 {
		ptr = addressOf(request)
	}
	result := fn(ptr, uint32(len(request)))
	runtime.KeepAlive(request)
	resPtr, resLen := uint32(result>>32), uint32(result)
	if resLen == 0 {
		return nil
	}
	response := append([]byte(nil), bytesAt(resPtr, resLen)...)
	free(resPtr)
	return response
}

func addressOf(b []byte) uint32 {
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// bytesAt views host-written bytes in place; decoders copy what they keep. (go vet flags the
// integer-to-pointer conversion: the address comes from the host, as with every go-plugin guest.)
func bytesAt(ptr, size uint32) []byte {
	if size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), size)
}
