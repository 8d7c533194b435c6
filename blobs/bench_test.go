package blobs_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
)

// BenchmarkSaveLocal keeps a 1 MiB PDF in a local folder: sniff, write,
// fsync, rename.
func BenchmarkSaveLocal(b *testing.B) {
	s, err := blobs.NewLocal(b.TempDir())
	require.NoError(b, err)
	body := append(append([]byte{}, pdf...), bytes.Repeat([]byte(" "), 1<<20-len(pdf))...)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_, err := blobs.Save(context.Background(), s, "a.pdf", bytes.NewReader(body), blobs.Limits{})
		require.NoError(b, err)
	}
}

// BenchmarkVerify checks one link token.
func BenchmarkVerify(b *testing.B) {
	s, err := blobs.NewSigner(secret, time.Hour, nil)
	require.NoError(b, err)
	tok := s.Token(blobs.Blob{Key: blobs.NewKey(), Name: "发票.pdf", Type: "application/pdf", Size: 1234}, 7, "hanmeimei")
	for b.Loop() {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
