package signedlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Reasons a token is refused.
var (
	ErrMalformed = errors.New("malformed link")
	ErrForged    = errors.New("link signature does not match")
)

// Codec seals grants into tokens and opens them again.
type Codec struct {
	secret []byte
	domain string
	maxLen int
}

// New returns a Codec signing with secret under domain (the link's kind,
// e.g. "flowbot-blob-link"); tokens longer than maxLen are refused unread.
func New(secret []byte, domain string, maxLen int) Codec {
	return Codec{secret: secret, domain: domain, maxLen: maxLen}
}

// Seal returns the token of grant (JSON-encoded).
func (c Codec) Seal(grant any) (string, error) {
	raw, err := json.Marshal(grant)
	if err != nil {
		return "", fmt.Errorf("seal a link grant: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(raw)
	return payload + "." + base64.RawURLEncoding.EncodeToString(c.sign(payload)), nil
}

func (c Codec) sign(payload string) []byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(c.domain + "\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Open checks token's form and signature, before anything in it is
// trusted, then decodes its grant into grant. Errors wrap ErrMalformed or
// ErrForged.
func (c Codec) Open(token string, grant any) error {
	if len(token) > c.maxLen {
		return fmt.Errorf("%w: too long", ErrMalformed)
	}
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || payload == "" || sig == "" || strings.Contains(sig, ".") {
		return ErrMalformed
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	if !hmac.Equal(got, c.sign(payload)) {
		return ErrForged
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	if err := json.Unmarshal(raw, grant); err != nil {
		return fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	return nil
}
