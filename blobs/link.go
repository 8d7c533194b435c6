package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowbot/flowbot/signedlink"
)

// Grant is what a link lets its holder do: read one blob of one request,
// as one viewer, until Expires.
type Grant struct {
	Blob     Blob   `json:"b"`
	Instance int64  `json:"i"`
	Viewer   string `json:"u"` // directory user id
	Expires  int64  `json:"e"` // unix seconds
}

// Reasons a link is refused.
var (
	ErrLinkMalformed = errors.New("blobs: malformed link")
	ErrLinkForged    = errors.New("blobs: link signature does not match")
	ErrLinkExpired   = errors.New("blobs: link expired")
)

// Signer makes and checks signed links.
type Signer struct {
	codec signedlink.Codec
	ttl   time.Duration
	now   func() time.Time
}

// NewSigner returns a Signer with secret (at least 32 bytes) whose links
// last ttl; now is the clock (nil: time.Now).
func NewSigner(secret []byte, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("blobs: link secret too short (%d bytes, want 32 or more)", len(secret))
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("blobs: link lifetime must be positive, got %s", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{codec: signedlink.New(secret, "flowbot-blob-link", maxToken), ttl: ttl, now: now}, nil
}

// Token signs a grant of blob of request instance to viewer, valid for
// the Signer's lifetime from now.
func (s *Signer) Token(b Blob, instance int64, viewer string) string {
	tok, _ := s.codec.Seal(Grant{Blob: b, Instance: instance, Viewer: viewer, Expires: s.now().Add(s.ttl).Unix()}) // a Grant always encodes
	return tok
}

// Path is the URL path of a link under prefix ("/files/"): the token,
// then the file's name (for the browser's save dialog).
func (s *Signer) Path(prefix string, b Blob, instance int64, viewer string) string {
	return prefix + s.Token(b, instance, viewer) + "/" + url.PathEscape(b.Name)
}

// maxToken bounds a token before it is decoded.
const maxToken = 4096

// Verify checks a token: its form, its signature (before anything in it
// is trusted), then its expiry.
func (s *Signer) Verify(token string) (Grant, error) {
	var g Grant
	if err := s.codec.Open(token, &g); err != nil {
		if errors.Is(err, signedlink.ErrForged) {
			return Grant{}, ErrLinkForged
		}
		return Grant{}, fmt.Errorf("%w: %w", ErrLinkMalformed, err)
	}
	if checkKey(g.Blob.Key) != nil || g.Instance <= 0 || g.Viewer == "" {
		return Grant{}, fmt.Errorf("%w: incomplete grant", ErrLinkMalformed)
	}
	if s.now().Unix() >= g.Expires {
		return Grant{}, ErrLinkExpired
	}
	return g, nil
}

// CanSee reports whether viewer may see request instance now (the flow
// core's rule, wired by cmd/flowbot).
type CanSee func(ctx context.Context, viewer string, instance int64) (bool, error)

// Handler serves links: GET <prefix><token>/<name>.
type Handler struct {
	Prefix string
	Store  Store
	Signer *Signer
	CanSee CanSee
	Log    *slog.Logger
}

// ServeHTTP checks the link, then the viewer's right to see the request
// now (rights can change after a link was made), then sends the file as
// a download with its sniffed type.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, h.Prefix)
	token, _, _ := strings.Cut(rest, "/")
	g, err := h.Signer.Verify(token)
	switch {
	case errors.Is(err, ErrLinkExpired):
		http.Error(w, "this link has expired; open the request card again for a new one / 链接已过期，请从申请卡片重新打开", http.StatusGone)
		return
	case err != nil:
		http.Error(w, "invalid link / 链接无效", http.StatusForbidden)
		return
	}
	ok, err := h.CanSee(r.Context(), g.Viewer, g.Instance)
	if err != nil {
		h.log().ErrorContext(r.Context(), "check right to a file", "instance", g.Instance, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !ok {
		http.Error(w, "you may not see this request / 你无权查看此申请", http.StatusForbidden)
		return
	}
	rc, err := h.Store.Open(r.Context(), g.Blob.Key)
	if errors.Is(err, ErrNotFound) {
		http.Error(w, "file not found / 文件不存在", http.StatusNotFound)
		return
	}
	if err != nil {
		h.log().ErrorContext(r.Context(), "open file", "key", g.Blob.Key, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", g.Blob.Type)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": g.Blob.Name}))
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, rc); err != nil {
		h.log().WarnContext(r.Context(), "send file", "key", g.Blob.Key, "err", err)
	}
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}
