package api

import (
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 10, 0, 0, 123e6, time.UTC)
	got, id, err := decodeCursor(encodeCursor(at, 42))
	if err != nil || !got.Equal(at) || id != 42 {
		t.Fatalf("got %s %d %v, want %s 42", got, id, err, at)
	}
	for _, bad := range []string{"", "x", "djEuMS4w", "djIuMS4x", "djEuYS4x", "djEuMS4tMQ"} {
		if _, _, err := decodeCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

// FuzzDecodeCursor: any string decodes to a valid position or an error,
// and a valid one encodes back to a cursor that decodes the same.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(time.UnixMilli(1764841600000), 12))
	f.Add("djEuMS4w")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := decodeCursor(s)
		if err != nil {
			return
		}
		if id <= 0 || at.UnixMilli() < 0 {
			t.Fatalf("decoded an invalid position %s %d from %q", at, id, s)
		}
		at2, id2, err := decodeCursor(encodeCursor(at, id))
		if err != nil || !at2.Equal(at) || id2 != id {
			t.Fatalf("round trip of %q: %s %d %v", s, at2, id2, err)
		}
	})
}
