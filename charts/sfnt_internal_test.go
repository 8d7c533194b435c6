package charts

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// misaligned returns font (a single font) with every table moved one byte
// off a four-byte boundary, as WenQuanYi Micro Hei ships its tables,
// wrapped in a collection when ttc is set.
func misaligned(t testing.TB, font []byte, ttc bool) []byte {
	n := int(binary.BigEndian.Uint16(font[4:]))
	head := 0
	if ttc {
		head = 16 // "ttcf", version, one font, its offset
	}
	out := make([]byte, head+12+16*n)
	if ttc {
		copy(out, "ttcf")
		binary.BigEndian.PutUint32(out[4:], 0x00010000)
		binary.BigEndian.PutUint32(out[8:], 1)
		binary.BigEndian.PutUint32(out[12:], uint32(head))
	}
	copy(out[head:], font[:12+16*n])
	for i := range n {
		r := font[12+16*i:]
		off, size := binary.BigEndian.Uint32(r[8:]), binary.BigEndian.Uint32(r[12:])
		if len(out)%4 == 0 {
			out = append(out, 0)
		}
		binary.BigEndian.PutUint32(out[head+12+16*i+8:], uint32(len(out)))
		out = append(out, font[off:off+size]...)
	}
	return out
}

func TestStandaloneAlignsTables(t *testing.T) {
	t.Parallel()
	for _, ttc := range []bool{false, true} {
		bad := misaligned(t, goregular.TTF, ttc)
		if !ttc {
			_, err := opentype.Parse(bad)
			require.Error(t, err, "the parser takes misaligned tables: the workaround is not needed")
		}
		one, err := standalone(bad, 0)
		require.NoError(t, err)
		f, err := opentype.Parse(one)
		require.NoError(t, err, "collection %v", ttc)
		idx, err := f.GlyphIndex(nil, 'A')
		require.NoError(t, err)
		require.NotZero(t, idx, "the copied font lost its glyphs")
	}
}

func TestStandaloneRefusesBadFiles(t *testing.T) {
	t.Parallel()
	good := goregular.TTF
	ttc := misaligned(t, good, true)
	tests := []struct {
		name  string
		data  []byte
		index int
	}{
		{"empty", nil, 0},
		{"short header", good[:8], 0},
		{"directory cut", good[:40], 0},
		{"second font of a single font", good, 1},
		{"font past the collection", ttc, 1},
		{"collection offset past the end", append(append([]byte{}, ttc[:12]...), 0xff, 0xff, 0xff, 0xff), 0},
		{"table past the end", good[:len(good)/2], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := standalone(tt.data, tt.index)
			require.ErrorIs(t, err, errNotSFNT)
		})
	}
}

func FuzzStandalone(f *testing.F) {
	f.Add(goregular.TTF[:2048], 0)
	f.Add(misaligned(f, goregular.TTF, true)[:4096], 0)
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10"), 0)
	f.Fuzz(func(t *testing.T, data []byte, index int) {
		out, err := standalone(data, index)
		if err != nil {
			return
		}
		if len(out)%4 != 0 {
			t.Fatalf("copied font of %d bytes is not padded", len(out))
		}
		n := int(binary.BigEndian.Uint16(out[4:]))
		for i := range n {
			if off := binary.BigEndian.Uint32(out[12+16*i+8:]); off%4 != 0 {
				t.Fatalf("table %d at %d: not aligned", i, off)
			}
		}
	})
}
