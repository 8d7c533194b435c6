package teams

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Defaults of Microsoft's public cloud.
const (
	DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	DefaultIssuer            = "https://api.botframework.com"
	DefaultLoginBaseURL      = "https://login.microsoftonline.com"
	DefaultScope             = "https://api.botframework.com/.default"
	DefaultChannelID         = "msteams"
	// DefaultServiceURL is where proactive messages go before a user has
	// written to the bot (the global Teams service url).
	DefaultServiceURL = "https://smba.trafficmanager.net/teams/"
)

// Config configures the adapter for one single-tenant bot. Zero values
// take the defaults shown.
type Config struct {
	// AppID is the bot's Microsoft App ID: the audience of inbound tokens
	// and the client id of outbound ones.
	AppID string
	// AppPassword is the client secret of the app registration.
	AppPassword string
	// TenantID is the Entra tenant of the single-tenant bot: outbound
	// tokens come from {LoginBaseURL}/{TenantID}/oauth2/v2.0/token.
	TenantID string
	// OpenIDMetadataURL is the Bot Framework's OpenID metadata
	// (DefaultOpenIDMetadataURL); its jwks_uri gives the signing keys.
	OpenIDMetadataURL string
	// Issuer is the iss of inbound tokens (DefaultIssuer).
	Issuer string
	// LoginBaseURL is the token endpoint's base (DefaultLoginBaseURL).
	LoginBaseURL string
	// Scope of outbound tokens (DefaultScope).
	Scope string
	// ChannelID is the channel activities must come from and the signing
	// key must be endorsed for (DefaultChannelID).
	ChannelID string
	// ServiceURL is used for proactive messages to users the adapter has
	// not heard from yet (DefaultServiceURL).
	ServiceURL string
	// Leeway is the clock skew allowed on exp and nbf (5m).
	Leeway time.Duration
	// KeysMaxAge is how long fetched signing keys are used before they are
	// fetched again (24h).
	KeysMaxAge time.Duration
	// KeysMinRefetch is the least time between two fetches of the keys
	// caused by an unknown kid (1m).
	KeysMinRefetch time.Duration
	// InvokeTimeout bounds the bot's handling of a card action before the
	// invoke is answered without a card (4s; Teams waits longer).
	InvokeTimeout time.Duration
	// MessageTimeout bounds the bot's handling of a message (10s).
	MessageTimeout time.Duration
	// MaxBodyBytes limits an inbound activity (256 KiB).
	MaxBodyBytes int64
	// SendKeyTTL is how long a send's idempotency key is remembered (24h).
	SendKeyTTL time.Duration
	// MaxRetries is how often a send is retried after 429/412/502/504 (3).
	MaxRetries int
	// RetryMax bounds the wait of one retry (30s).
	RetryMax time.Duration
}

func (c Config) withDefaults() Config {
	c.OpenIDMetadataURL = cmp.Or(c.OpenIDMetadataURL, DefaultOpenIDMetadataURL)
	c.Issuer = cmp.Or(c.Issuer, DefaultIssuer)
	c.LoginBaseURL = cmp.Or(c.LoginBaseURL, DefaultLoginBaseURL)
	c.Scope = cmp.Or(c.Scope, DefaultScope)
	c.ChannelID = cmp.Or(c.ChannelID, DefaultChannelID)
	c.ServiceURL = cmp.Or(c.ServiceURL, DefaultServiceURL)
	c.Leeway = cmp.Or(c.Leeway, 5*time.Minute)
	c.KeysMaxAge = cmp.Or(c.KeysMaxAge, 24*time.Hour)
	c.KeysMinRefetch = cmp.Or(c.KeysMinRefetch, time.Minute)
	c.InvokeTimeout = cmp.Or(c.InvokeTimeout, 4*time.Second)
	c.MessageTimeout = cmp.Or(c.MessageTimeout, 10*time.Second)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 256<<10)
	c.SendKeyTTL = cmp.Or(c.SendKeyTTL, 24*time.Hour)
	c.MaxRetries = cmp.Or(c.MaxRetries, 3)
	c.RetryMax = cmp.Or(c.RetryMax, 30*time.Second)
	return c
}

// ConfigError names the configuration key that is wrong.
type ConfigError struct {
	Key    string // e.g. "teams.app_id"
	Reason string
}

func (e *ConfigError) Error() string { return "teams: config " + e.Key + ": " + e.Reason }

func (c Config) validate() error {
	switch {
	case c.AppID == "":
		return &ConfigError{Key: "teams.app_id", Reason: "required"}
	case c.AppPassword == "":
		return &ConfigError{Key: "teams.app_password", Reason: "required"}
	case c.TenantID == "":
		return &ConfigError{Key: "teams.tenant_id", Reason: "required (single-tenant bot)"}
	case c.Leeway < 0 || c.Leeway > 10*time.Minute:
		return &ConfigError{Key: "teams.leeway", Reason: "must be between 0 and 10m"}
	case c.MaxBodyBytes < 0:
		return &ConfigError{Key: "teams.max_body_bytes", Reason: "must be positive"}
	}
	return nil
}

// Option tunes an Adapter.
type Option func(*options)

type options struct {
	log        *slog.Logger
	httpClient *http.Client
	now        func() time.Time
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithHTTPClient sets the client for outbound calls (default: apiclient.New,
// a 10s timeout and idle connections kept for the next sends).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithClock replaces time.Now (token checks, caches).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Errors callers can branch on.
var (
	ErrEmptyMessage = errors.New("message has neither text nor card")
	ErrBadRef       = errors.New("malformed message reference")
	ErrNoRecipient  = errors.New("recipient has neither user id nor chat id")
	ErrUnauthorized = errors.New("unauthorized activity")
)

// APIError is an error answer of the Bot Connector or the token endpoint.
type APIError struct {
	Op     string
	Status int
	Body   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("teams: %s: http %d: %s", e.Op, e.Status, e.Body)
}
