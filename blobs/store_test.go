package blobs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
)

// stores returns every Store implementation, fresh: a local folder and
// S3 (minio-go against gofakes3, an in-process S3 server).
func stores(t *testing.T) map[string]blobs.Store {
	t.Helper()
	local, err := blobs.NewLocal(t.TempDir())
	require.NoError(t, err)
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket("flowbot"))
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	s3, err := blobs.NewS3(blobs.S3Config{
		Endpoint: strings.TrimPrefix(srv.URL, "http://"), Bucket: "flowbot", Prefix: "att/",
		Region: "us-east-1", AccessKey: "key", SecretKey: "secret", Insecure: true,
	})
	require.NoError(t, err)
	return map[string]blobs.Store{"local": local, "s3": s3}
}

func read(t *testing.T, s blobs.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b
}

// brokenReader gives n bytes, then fails: an upload cut off mid-stream.
type brokenReader struct{ n int }

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), b.n)
	for i := range k {
		p[i] = 'x'
	}
	b.n -= k
	return k, nil
}

// The conformance suite every Store runs.
func TestStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("put, open, delete", func(t *testing.T) {
				key := blobs.NewKey()
				body := bytes.Repeat([]byte("receipt "), 10000)
				require.NoError(t, s.Put(ctx, key, bytes.NewReader(body), int64(len(body))))
				require.Equal(t, body, read(t, s, key))
				require.NoError(t, s.Delete(ctx, key))
				_, err := s.Open(ctx, key)
				require.ErrorIs(t, err, blobs.ErrNotFound)
				require.NoError(t, s.Delete(ctx, key), "deleting twice is no error")
			})
			t.Run("unknown key", func(t *testing.T) {
				_, err := s.Open(ctx, blobs.NewKey())
				require.ErrorIs(t, err, blobs.ErrNotFound)
			})
			t.Run("malformed keys", func(t *testing.T) {
				for _, k := range []string{"", "../../etc/passwd", "ABC", strings.Repeat("a", 33), "0123456789abcdef0123456789abcde/"} {
					_, err := s.Open(ctx, k)
					require.ErrorIs(t, err, blobs.ErrBadKey, "key %q", k)
					require.ErrorIs(t, s.Put(ctx, k, strings.NewReader("x"), 1), blobs.ErrBadKey, "key %q", k)
				}
			})
			t.Run("upload cut mid-stream leaves nothing", func(t *testing.T) {
				key := blobs.NewKey()
				require.Error(t, s.Put(ctx, key, &brokenReader{n: 1 << 20}, -1))
				_, err := s.Open(ctx, key)
				require.ErrorIs(t, err, blobs.ErrNotFound, "no half file under the key")
			})
			t.Run("cancelled upload leaves nothing", func(t *testing.T) {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				key := blobs.NewKey()
				require.Error(t, s.Put(cctx, key, strings.NewReader("data"), 4))
				_, err := s.Open(ctx, key)
				require.ErrorIs(t, err, blobs.ErrNotFound)
			})
		})
	}
}
