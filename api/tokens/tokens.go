package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Store errors.
var (
	// ErrNotFound: no token with that id or hash.
	ErrNotFound = errors.New("token not found")
	// ErrConflict: a token with that id or hash exists already.
	ErrConflict = errors.New("token exists")
)

// Store keeps tokens. Implementations: store/sqlite, store/postgres; both
// run tokenstest.Run.
type Store interface {
	// CreateToken inserts t (ID and Hash set by the caller).
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash finds a token by the hash of its secret, revoked or not.
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	// Tokens lists every token, newest first.
	Tokens(ctx context.Context) ([]*Token, error)
	// RevokeToken marks token id revoked at at; revoking twice keeps the
	// first time. Unknown id: ErrNotFound.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// TouchToken records a use of token id at at.
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// Token is one API token. The secret itself is never stored.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hash      string    `json:"-"` // hex SHA-256 of the secret
	Scopes    []string  `json:"scopes"`
	User      string    `json:"user,omitempty"` // acts for this directory user; "" = a service token
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt nil: never expires.
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Scopes a token may have. Besides these, "flow:ID" limits the token to
// the requests and definitions of flow ID (several may be given).
const (
	ScopeRead  = "read"  // GET everything the acting user may see
	ScopeWrite = "write" // file, decide, withdraw... (implies read)
	ScopeAdmin = "admin" // flows, directory, tokens, outbox (implies write)
)

// SecretPrefix starts every secret, so that leaked secrets are easy to
// find in logs and by secret scanners.
const SecretPrefix = "fbt_"

var (
	flowIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	nameRe   = regexp.MustCompile(`^[\p{L}\p{N} ._:@/-]{1,100}$`)
)

// ParseScopes checks a comma separated scope list and returns it sorted
// without duplicates.
func ParseScopes(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		switch {
		case p == ScopeRead || p == ScopeWrite || p == ScopeAdmin:
		case strings.HasPrefix(p, "flow:") && flowIDRe.MatchString(strings.TrimPrefix(p, "flow:")):
		default:
			return nil, fmt.Errorf("unknown scope %q (want read, write, admin or flow:ID)", p)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("no scopes given (want read, write, admin or flow:ID)")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Allows reports whether the token's scopes grant level (read, write or
// admin): admin implies write, write implies read.
func (t *Token) Allows(level string) bool {
	rank := map[string]int{ScopeRead: 1, ScopeWrite: 2, ScopeAdmin: 3}
	need := rank[level]
	for _, s := range t.Scopes {
		if r := rank[s]; r > 0 && r >= need {
			return true
		}
	}
	return false
}

// Flows returns the flows the token is limited to (nil: all flows).
func (t *Token) Flows() []string {
	var out []string
	for _, s := range t.Scopes {
		if id, ok := strings.CutPrefix(s, "flow:"); ok {
			out = append(out, id)
		}
	}
	return out
}

// AllowsFlow reports whether the token may touch flow id.
func (t *Token) AllowsFlow(id string) bool {
	fs := t.Flows()
	return fs == nil || slices.Contains(fs, id)
}

// Usable returns nil when the token may be used at now, else why not.
func (t *Token) Usable(now time.Time) error {
	if t.RevokedAt != nil {
		return ErrRevoked
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return ErrExpired
	}
	return nil
}

// Reasons a stored token is refused.
var (
	ErrRevoked = errors.New("token revoked")
	ErrExpired = errors.New("token expired")
)

// NewParams describes a token to create.
type NewParams struct {
	Name   string
	Scopes []string
	User   string
	TTL    time.Duration // 0: never expires
	Now    time.Time
}

// New makes a token and its secret (shown once; only its hash is kept).
func New(p NewParams) (*Token, string, error) {
	if !nameRe.MatchString(p.Name) {
		return nil, "", fmt.Errorf("token name %q: want 1-100 letters, digits, spaces or ._:@/-", p.Name)
	}
	if len(p.Scopes) == 0 {
		return nil, "", errors.New("a token needs at least one scope")
	}
	if p.TTL < 0 {
		return nil, "", fmt.Errorf("token expiry must be positive, got %s", p.TTL)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", fmt.Errorf("make token secret: %w", err)
	}
	secret := SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	var idb [8]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, "", fmt.Errorf("make token id: %w", err)
	}
	now := p.Now.UTC().Truncate(time.Millisecond)
	t := &Token{
		ID: "tok_" + hex.EncodeToString(idb[:]), Name: p.Name, Hash: Hash(secret),
		Scopes: slices.Clone(p.Scopes), User: p.User, CreatedAt: now,
	}
	if p.TTL > 0 {
		exp := now.Add(p.TTL)
		t.ExpiresAt = &exp
	}
	return t, secret, nil
}

// Hash returns the hex SHA-256 of a secret: what the store keeps and looks
// up. A high-entropy random secret needs no slow hash.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
