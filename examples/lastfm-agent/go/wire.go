//go:build wasip1

package main

// The protobuf (proto3) wire format, as much as the plugin's messages need: varint and
// length-delimited fields, maps as repeated {1: key, 2: value} entries. Fixed-width fields are
// skipped when reading and never written.

import "errors"

var errMalformed = errors.New("malformed protobuf message")

type encoder struct{ buf []byte }

func (e *encoder) varint(v uint64) {
	for v >= 0x80 {
		e.buf = append(e.buf, byte(v)|0x80)
		v >>= 7
	}
	e.buf = append(e.buf, byte(v))
}

func (e *encoder) tag(field, wireType uint64) { e.varint(field<<3 | wireType) }

// bytes writes a length-delimited field, even an empty one (a map entry, a list element).
func (e *encoder) bytes(field uint64, b []byte) {
	e.tag(field, 2)
	e.varint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// String and integer fields are left out when they hold the default, as proto3 does.
func (e *encoder) string(field uint64, s string) {
	if s != "" {
		e.bytes(field, []byte(s))
	}
}

func (e *encoder) int64(field uint64, v int64) {
	if v != 0 {
		e.tag(field, 0)
		e.varint(uint64(v))
	}
}

func (e *encoder) stringMap(field uint64, m map[string]string) {
	for k, v := range m {
		var entry encoder
		entry.bytes(1, []byte(k))
		entry.bytes(2, []byte(v))
		e.bytes(field, entry.buf)
	}
}

// field is one decoded field: its varint value, or the payload of a length-delimited field.
type field struct {
	num    uint64
	varint uint64
	data   []byte
}

func readVarint(b []byte) (v uint64, n int, err error) {
	for shift := uint(0); shift < 64; shift += 7 {
		if n >= len(b) {
			return 0, 0, errMalformed
		}
		c := b[n]
		n++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, n, nil
		}
	}
	return 0, 0, errMalformed
}

// eachField calls fn for every varint and length-delimited field of b, in order.
func eachField(b []byte, fn func(field)) error {
	for len(b) > 0 {
		key, n, err := readVarint(b)
		if err != nil {
			return err
		}
		b = b[n:]
		f := field{num: key >> 3}
		if f.num == 0 {
			return errMalformed
		}
		switch key & 7 {
		case 0:
			if f.varint, n, err = readVarint(b); err != nil {
				return err
			}
			b = b[n:]
		case 2:
			size, n, err := readVarint(b)
			if err != nil || size > uint64(len(b)-n) {
				return errMalformed
			}
			f.data, b = b[n:n+int(size)], b[n+int(size):]
		case 1, 5: // fixed64, fixed32
			width := 8
			if key&7 == 5 {
				width = 4
			}
			if len(b) < width {
				return errMalformed
			}
			b = b[width:]
			continue
		default: // groups are not part of proto3
			return errMalformed
		}
		fn(f)
	}
	return nil
}

// mapEntry reads one {1: key, 2: value} entry of a map<string, string> field.
func mapEntry(data []byte, into map[string]string) error {
	var key, value string
	err := eachField(data, func(f field) {
		switch f.num {
		case 1:
			key = string(f.data)
		case 2:
			value = string(f.data)
		}
	})
	if err == nil {
		into[key] = value
	}
	return err
}
