package teams

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signingKey is one key of the Bot Framework's JWKS.
type signingKey struct {
	pub          *rsa.PublicKey
	endorsements []string
}

// keyCache holds the signing keys fetched from the OpenID metadata's
// jwks_uri: refreshed after KeysMaxAge, and on an unknown kid at most once
// per KeysMinRefetch.
type keyCache struct {
	cfg    Config
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	keys      map[string]signingKey
	fetched   time.Time // last successful fetch
	attempted time.Time // last fetch attempt
}

type jwk struct {
	Kty          string   `json:"kty"`
	Kid          string   `json:"kid"`
	Use          string   `json:"use"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	Endorsements []string `json:"endorsements"`
}

// key returns the key kid, fetching the keys when they are old or kid is
// unknown (rate-limited).
func (c *keyCache) key(ctx context.Context, kid string) (signingKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	k, ok := c.keys[kid]
	stale := c.keys == nil || now.Sub(c.fetched) > c.cfg.KeysMaxAge
	if ok && !stale {
		return k, nil
	}
	if c.attempted.IsZero() || now.Sub(c.attempted) >= c.cfg.KeysMinRefetch || stale {
		c.attempted = now
		keys, err := c.fetch(ctx)
		if err != nil {
			if ok { // keep using a known key when the refresh fails
				return k, nil
			}
			return signingKey{}, err
		}
		c.keys, c.fetched = keys, now
		k, ok = c.keys[kid]
	}
	if !ok {
		return signingKey{}, fmt.Errorf("unknown signing key %q", kid)
	}
	return k, nil
}

// ready fetches the keys when none are cached (or they are old).
func (c *keyCache) ready(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.keys != nil && now.Sub(c.fetched) <= c.cfg.KeysMaxAge {
		return nil
	}
	c.attempted = now
	keys, err := c.fetch(ctx)
	if err != nil {
		return err
	}
	c.keys, c.fetched = keys, now
	return nil
}

// fetch reads the metadata, then the JWKS it names.
func (c *keyCache) fetch(ctx context.Context) (map[string]signingKey, error) {
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := c.getJSON(ctx, c.cfg.OpenIDMetadataURL, &meta); err != nil {
		return nil, fmt.Errorf("teams: fetching openid metadata: %w", err)
	}
	if meta.JWKSURI == "" {
		return nil, errors.New("teams: fetching openid metadata: no jwks_uri")
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := c.getJSON(ctx, meta.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("teams: fetching signing keys: %w", err)
	}
	keys := map[string]signingKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			continue
		}
		keys[k.Kid] = signingKey{pub: pub, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, errors.New("teams: fetching signing keys: no usable RSA key")
	}
	return keys, nil
}

func (c *keyCache) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("http %d", resp.StatusCode)
	}
	return json.Unmarshal(body, v)
}

func rsaKey(n64, e64 string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n64, "="))
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e64, "="))
	if err != nil {
		return nil, err
	}
	e := new(big.Int).SetBytes(eb)
	if len(nb) < 256 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31 {
		return nil, errors.New("weak or malformed RSA key")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(e.Int64())}, nil
}

// claims are the Bot Framework token's claims the adapter checks.
type claims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
}

// authenticate checks an activity's bearer token as Microsoft requires:
// RS256 by a key of the JWKS, issuer, audience = app id, exp/nbf with
// leeway, the key endorsed for the activity's channel, and the serviceurl
// claim equal to the activity's serviceUrl.
func (a *Adapter) authenticate(ctx context.Context, authz, channelID, serviceURL string) error {
	raw, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || raw == "" {
		return errors.New("no bearer token")
	}
	if channelID != a.cfg.ChannelID {
		return fmt.Errorf("channel %q is not %q", channelID, a.cfg.ChannelID)
	}
	var key signingKey
	var cl claims
	_, err := jwt.ParseWithClaims(raw, &cl, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := a.keys.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		key = k
		return k.pub, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(a.cfg.Issuer),
		jwt.WithAudience(a.cfg.AppID),
		jwt.WithLeeway(a.cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now),
	)
	if err != nil {
		return err
	}
	if !slices.Contains(key.endorsements, channelID) {
		return fmt.Errorf("signing key not endorsed for %q", channelID)
	}
	if cl.ServiceURL == "" || !sameServiceURL(cl.ServiceURL, serviceURL) {
		return fmt.Errorf("serviceurl claim %q does not match the activity's %q", cl.ServiceURL, serviceURL)
	}
	return nil
}

// sameServiceURL compares service urls, ignoring a trailing slash.
func sameServiceURL(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}
