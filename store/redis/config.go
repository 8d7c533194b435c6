package redis

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Default timeouts used by Open: short, so that a Redis outage makes calls
// fail fast instead of piling up behind a chat platform's deadline.
const (
	DefaultDialTimeout  = 500 * time.Millisecond
	DefaultReadTimeout  = 500 * time.Millisecond
	DefaultWriteTimeout = 500 * time.Millisecond
	DefaultPrefix       = "flowbot:"
)

// Config describes how to reach Redis. With MasterName set the addresses
// are Sentinels; with several addresses and no MasterName they are Cluster
// nodes; otherwise the one address is a standalone server.
type Config struct {
	Addrs      []string // host:port, at least one
	MasterName string   // Sentinel master name, empty without Sentinel
	Username   string
	Password   string
	DB         int  // database number (standalone and Sentinel only)
	TLS        bool // connect with TLS (1.2 or later)
	// TLSServerName overrides the name checked in the server certificate;
	// empty: the host of the first address.
	TLSServerName string
	// Prefix starts every key this store writes; empty: DefaultPrefix.
	Prefix string
	// Timeouts; zero: the defaults above.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// Owner tags the holds of events being handled (Store.WithOwner);
	// zero: untagged, only their expiry ends them.
	Owner Owner
}

// Validate reports the first field of c that is wrong.
func (c Config) Validate() error {
	if len(c.Addrs) == 0 {
		return errors.New("redis: config: addrs: at least one address is required")
	}
	for i, a := range c.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("redis: config: addrs[%d] %q: want host:port: %w", i, a, err)
		}
	}
	if err := c.Owner.validate(); err != nil {
		return fmt.Errorf("redis: config: owner: %w", err)
	}
	if c.DB < 0 {
		return fmt.Errorf("redis: config: db: got %d, want 0 or more", c.DB)
	}
	if c.DB != 0 && c.MasterName == "" && len(c.Addrs) > 1 {
		return fmt.Errorf("redis: config: db: got %d, Redis Cluster has only database 0", c.DB)
	}
	if c.MasterName != "" && strings.TrimSpace(c.MasterName) == "" {
		return errors.New("redis: config: master_name: blank")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"dial_timeout", c.DialTimeout}, {"read_timeout", c.ReadTimeout}, {"write_timeout", c.WriteTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("redis: config: %s: got %s, want 0 (default) or more", d.name, d.v)
		}
	}
	return nil
}

// Options turns c into go-redis options, with fail-fast timeouts and
// retries.
func (c Config) Options() (*goredis.UniversalOptions, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	o := &goredis.UniversalOptions{
		Addrs:        append([]string(nil), c.Addrs...),
		MasterName:   c.MasterName,
		Username:     c.Username,
		Password:     c.Password,
		DB:           c.DB,
		DialTimeout:  cmp.Or(c.DialTimeout, DefaultDialTimeout),
		ReadTimeout:  cmp.Or(c.ReadTimeout, DefaultReadTimeout),
		WriteTimeout: cmp.Or(c.WriteTimeout, DefaultWriteTimeout),
		// One retry and one dial attempt: a dead server is reported in about
		// one timeout, not after seconds of backoff.
		MaxRetries:         1,
		DialerRetries:      1,
		DialerRetryTimeout: 50 * time.Millisecond,
		PoolTimeout:        cmp.Or(c.ReadTimeout, DefaultReadTimeout) + time.Second,
	}
	if c.TLS {
		name := c.TLSServerName
		if name == "" {
			name, _, _ = net.SplitHostPort(c.Addrs[0])
		}
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: name}
	}
	return o, nil
}

// Open builds a client from cfg and returns a Store that closes it on
// Close. It does not contact Redis: use Ping for readiness.
func Open(cfg Config) (*Store, error) {
	o, err := cfg.Options()
	if err != nil {
		return nil, err
	}
	s := New(goredis.NewUniversalClient(o), cmp.Or(cfg.Prefix, DefaultPrefix))
	s.owned = true
	if cfg.Owner != (Owner{}) {
		s.owner = cfg.Owner
	}
	return s, nil
}
