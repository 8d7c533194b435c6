package blobs_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

type linkBundle struct {
	now    time.Time
	signer *blobs.Signer
	srv    *httptest.Server
	blob   blobs.Blob
}

// participants of request 7: the applicant and the approver.
var participants = map[string]bool{"dev1": true, "cto": true}

func setupLinks(t *testing.T) *linkBundle {
	t.Helper()
	b := &linkBundle{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	s, err := blobs.NewLocal(t.TempDir())
	require.NoError(t, err)
	b.signer, err = blobs.NewSigner(secret, time.Hour, func() time.Time { return b.now })
	require.NoError(t, err)
	b.blob, err = blobs.Save(context.Background(), s, "发票 1.pdf", bytes.NewReader(pdf), blobs.Limits{})
	require.NoError(t, err)
	h := &blobs.Handler{Prefix: "/files/", Store: s, Signer: b.signer,
		CanSee: func(_ context.Context, viewer string, instance int64) (bool, error) {
			return instance == 7 && participants[viewer], nil
		}}
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *linkBundle) get(t *testing.T, path string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Get(b.srv.URL + path)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body), res.Header
}

// A participant's link opens the file as a download with its sniffed type.
func TestLinkOpensForParticipant(t *testing.T) {
	t.Parallel()
	b := setupLinks(t)
	for _, who := range []string{"dev1", "cto"} {
		code, body, h := b.get(t, b.signer.Path("/files/", b.blob, 7, who))
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, string(pdf), body)
		require.Equal(t, "application/pdf", h.Get("Content-Type"))
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
		require.Contains(t, h.Get("Content-Disposition"), "attachment")
	}
}

// Every bad link is refused and shows nothing of the file.
func TestLinkRefused(t *testing.T) {
	t.Parallel()
	b := setupLinks(t)
	good := b.signer.Token(b.blob, 7, "dev1")
	payload, sig, _ := strings.Cut(good, ".")
	other, err := blobs.NewSigner([]byte("another secret of 32 bytes or more!!"), time.Hour, nil)
	require.NoError(t, err)
	// The same grant for another viewer, with dev1's signature.
	forgedViewer := strings.Split(b.signer.Token(b.blob, 7, "dev2"), ".")[0] + "." + sig
	tamperedPayload, _ := base64.RawURLEncoding.DecodeString(payload)
	tamperedPayload = bytes.Replace(tamperedPayload, []byte(`"i":7`), []byte(`"i":8`), 1)
	for _, tc := range []struct {
		name string
		path string
		code int
	}{
		{"not a participant", b.signer.Path("/files/", b.blob, 7, "dev2"), http.StatusForbidden},
		{"another request", b.signer.Path("/files/", b.blob, 8, "dev1"), http.StatusForbidden},
		{"viewer swapped", "/files/" + forgedViewer + "/x.pdf", http.StatusForbidden},
		{"payload edited", "/files/" + base64.RawURLEncoding.EncodeToString(tamperedPayload) + "." + sig + "/x.pdf", http.StatusForbidden},
		{"signed with another secret", other.Path("/files/", b.blob, 7, "dev1"), http.StatusForbidden},
		{"no signature", "/files/" + payload + "/x.pdf", http.StatusForbidden},
		{"garbage", "/files/%00%ff.zz/x", http.StatusForbidden},
		{"empty", "/files/", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := b.get(t, tc.path)
			require.Equal(t, tc.code, code, body)
			require.NotContains(t, body, "%PDF")
		})
	}
	t.Run("post", func(t *testing.T) {
		res, err := http.Post(b.srv.URL+b.signer.Path("/files/", b.blob, 7, "dev1"), "text/plain", nil)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	})
}

// A link expires after the Signer's lifetime.
func TestLinkExpires(t *testing.T) {
	t.Parallel()
	b := setupLinks(t)
	path := b.signer.Path("/files/", b.blob, 7, "dev1")
	b.now = b.now.Add(59 * time.Minute)
	code, _, _ := b.get(t, path)
	require.Equal(t, http.StatusOK, code)
	b.now = b.now.Add(time.Minute)
	code, body, _ := b.get(t, path)
	require.Equal(t, http.StatusGone, code)
	require.Contains(t, body, "expired")
	require.Contains(t, body, "过期")
}

// A missing file is a 404, not a crash.
func TestLinkMissingBlob(t *testing.T) {
	t.Parallel()
	b := setupLinks(t)
	gone := b.blob
	gone.Key = blobs.NewKey()
	code, _, _ := b.get(t, b.signer.Path("/files/", gone, 7, "dev1"))
	require.Equal(t, http.StatusNotFound, code)
}

// A short secret or no lifetime is a configuration error.
func TestNewSignerRefusesWeakSettings(t *testing.T) {
	t.Parallel()
	_, err := blobs.NewSigner([]byte("short"), time.Hour, nil)
	require.Error(t, err)
	_, err = blobs.NewSigner(secret, 0, nil)
	require.Error(t, err)
}

// FuzzVerify: any token is refused or verified, never a panic, and only a
// token this signer made verifies.
func FuzzVerify(f *testing.F) {
	// A fixed clock: every fuzz worker makes the same token.
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s, err := blobs.NewSigner(secret, time.Hour, func() time.Time { return now })
	require.NoError(f, err)
	good := s.Token(blobs.Blob{Key: "0123456789abcdef0123456789abcdef", Name: "a.pdf", Type: "application/pdf"}, 7, "dev1")
	for _, seed := range []string{good, "", ".", "a.b", good + "x", "x" + good, strings.Repeat("a", 5000)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		g, err := s.Verify(token)
		if err != nil {
			return
		}
		require.Equal(t, good, token, "only the token made verifies")
		require.Equal(t, int64(7), g.Instance)
	})
}
