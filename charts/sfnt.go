package charts

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The sfnt parser of golang.org/x/image requires every table of a font to
// start on a four-byte boundary, as the OpenType specification asks;
// some fonts shipped by Linux distributions (WenQuanYi Micro Hei, the
// CJK font of Debian's fonts-wqy-microhei) do not align theirs.
// standalone copies one font out of a font file or collection into a
// font file of its own, with its tables aligned, so the parser takes it.

// maxFontTables bounds the table directory read from a font file; real
// fonts have a few dozen tables.
const maxFontTables = 256

var errNotSFNT = errors.New("not an OpenType font or collection")

// standalone returns font index (0 for a single font) of the font file or
// collection data as a font file of its own whose tables start on
// four-byte boundaries.
func standalone(data []byte, index int) ([]byte, error) {
	dir := 0
	if len(data) >= 12 && string(data[:4]) == "ttcf" {
		n := int(binary.BigEndian.Uint32(data[8:12]))
		if index < 0 || index >= n || 12+4*(index+1) > len(data) {
			return nil, fmt.Errorf("font %d of a collection of %d: %w", index, n, errNotSFNT)
		}
		dir = int(binary.BigEndian.Uint32(data[12+4*index:]))
	} else if index != 0 {
		return nil, fmt.Errorf("font %d of a single font: %w", index, errNotSFNT)
	}
	if dir < 0 || dir+12 > len(data) {
		return nil, fmt.Errorf("table directory at %d of %d bytes: %w", dir, len(data), errNotSFNT)
	}
	version := data[dir : dir+4]
	numTables := int(binary.BigEndian.Uint16(data[dir+4:]))
	if numTables == 0 || numTables > maxFontTables || dir+12+16*numTables > len(data) {
		return nil, fmt.Errorf("%d tables: %w", numTables, errNotSFNT)
	}
	records := data[dir+12 : dir+12+16*numTables]
	size := 12 + 16*numTables
	for i := range numTables {
		r := records[16*i:]
		off, n := int(binary.BigEndian.Uint32(r[8:])), int(binary.BigEndian.Uint32(r[12:]))
		if off < 0 || n < 0 || off > len(data) || n > len(data)-off {
			return nil, fmt.Errorf("table %q at %d+%d of %d bytes: %w", r[:4], off, n, len(data), errNotSFNT)
		}
		size += (n + 3) &^ 3
	}
	out := make([]byte, 12+16*numTables, size)
	copy(out, version)
	copy(out[4:12], data[dir+4:dir+12]) // numTables and the binary-search fields
	for i := range numTables {
		r := records[16*i:]
		off, n := int(binary.BigEndian.Uint32(r[8:])), int(binary.BigEndian.Uint32(r[12:]))
		w := out[12+16*i:]
		copy(w[:8], r[:8]) // tag and checksum
		binary.BigEndian.PutUint32(w[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(w[12:], uint32(n))
		out = append(out, data[off:off+n]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}
