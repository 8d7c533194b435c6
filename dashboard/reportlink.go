package dashboard

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/flowbot/flowbot/signedlink"
)

// ReportGrant is what a report link lets its holder do: read one flow's
// report of one month, as one viewer, until Expires; and its chart, kept
// under Chart in the blob store ("" when the report was sent without one).
type ReportGrant struct {
	Flow    string `json:"f"`
	Month   string `json:"m"` // YYYY-MM
	Viewer  string `json:"u"` // directory user id
	Chart   string `json:"c,omitempty"`
	Expires int64  `json:"e"` // unix seconds
}

// Reasons a report link is refused.
var (
	ErrLinkMalformed = errors.New("dashboard: malformed report link")
	ErrLinkForged    = errors.New("dashboard: report link signature does not match")
	ErrLinkExpired   = errors.New("dashboard: report link expired")
)

// ReportSigner makes and checks signed report links. Its signatures are
// of their own kind: an attachment link's token is no report token, even
// under the same secret.
type ReportSigner struct {
	codec signedlink.Codec
	ttl   time.Duration
	now   func() time.Time
}

// NewReportSigner returns a ReportSigner with secret (at least 32 bytes)
// whose links last ttl; now is the clock (nil: time.Now).
func NewReportSigner(secret []byte, ttl time.Duration, now func() time.Time) (*ReportSigner, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("dashboard: report link secret too short (%d bytes, want 32 or more)", len(secret))
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("dashboard: report link lifetime must be positive, got %s", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &ReportSigner{codec: signedlink.New(secret, "flowbot-report-link", maxToken), ttl: ttl, now: now}, nil
}

// Token signs a grant of flow's report of month (the month's first day)
// to viewer, with the chart kept under chart, valid for the signer's
// lifetime from now.
func (s *ReportSigner) Token(flow string, month time.Time, viewer, chart string) string {
	g := ReportGrant{Flow: flow, Month: month.Format("2006-01"), Viewer: viewer, Chart: chart, Expires: s.now().Add(s.ttl).Unix()}
	tok, _ := s.codec.Seal(g) // a ReportGrant always encodes
	return tok
}

// maxToken bounds a token before it is decoded.
const maxToken = 2048

var (
	monthPattern = regexp.MustCompile(`^2[0-9]{3}-(0[1-9]|1[0-2])$`)
	chartPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// Verify checks a token: its form, its signature (before anything in it
// is trusted), what it grants, then its expiry.
func (s *ReportSigner) Verify(token string) (ReportGrant, error) {
	var g ReportGrant
	if err := s.codec.Open(token, &g); err != nil {
		if errors.Is(err, signedlink.ErrForged) {
			return ReportGrant{}, ErrLinkForged
		}
		return ReportGrant{}, fmt.Errorf("%w: %w", ErrLinkMalformed, err)
	}
	if !idPattern.MatchString(g.Flow) || !monthPattern.MatchString(g.Month) || g.Viewer == "" || (g.Chart != "" && !chartPattern.MatchString(g.Chart)) {
		return ReportGrant{}, fmt.Errorf("%w: incomplete grant", ErrLinkMalformed)
	}
	if s.now().Unix() >= g.Expires {
		return ReportGrant{}, ErrLinkExpired
	}
	return g, nil
}
